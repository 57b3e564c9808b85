// Copy-on-write changes to JSON documents: the containers on the way to a change are copied, everything
// else is shared. The record's values may be the app's own objects (a body parsed before inferlog ran),
// which redaction must never modify.

export type Location = readonly (string | number)[];

/** Marks a value to be removed from its object or array. */
export const REMOVE: unique symbol = Symbol('remove');

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null;
}

/** A shallow copy; own keys only, `__proto__` included as a plain key. */
function copy(container: Record<string, unknown> | unknown[]): Record<string, unknown> | unknown[] {
  return Array.isArray(container) ? container.slice() : Object.fromEntries(Object.entries(container));
}

/** Sets an own property without invoking setters (a key may be `__proto__`). */
export function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * `root` with the value at `location` replaced by `value` (or removed, for REMOVE). Returns `root` itself
 * when the location does not exist. Array removals shift later indexes: remove in descending order.
 */
export function setIn(root: unknown, location: Location, value: unknown, depth = 0): unknown {
  if (!isContainer(root)) return root;
  const key = location[depth];
  if (!Object.hasOwn(root, key)) return root;
  const current = (root as Record<string | number, unknown>)[key];
  const next = depth === location.length - 1 ? value : setIn(current, location, value, depth + 1);
  if (next === current) return root;
  const out = copy(root);
  if (next === REMOVE) {
    if (Array.isArray(out)) out.splice(key as number, 1);
    else delete out[key as string];
  } else if (Array.isArray(out)) {
    out[key as number] = next;
  } else {
    define(out, String(key), next);
  }
  return out;
}

/** Orders locations so removing them one after another never shifts one still to come: deepest and last first. */
export function removalOrder(a: Location, b: Location): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    if (typeof a[i] === 'number' && typeof b[i] === 'number') return (b[i] as number) - (a[i] as number);
    return String(b[i]) < String(a[i]) ? -1 : 1;
  }
  return b.length - a.length;
}
