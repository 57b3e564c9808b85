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

interface Trie {
  children: Map<string | number, Trie>;
  /** The new value for this location (REMOVE to remove it), when an operation ends here. */
  op?: { value: unknown };
}

/**
 * `root` with every operation applied (each location's value replaced, or removed for REMOVE) in one
 * pass: each container on the way to a change is copied once, however many changes it holds, and array
 * removals are done together, so indexes selected on the original document stay right. An operation on
 * a location inside another operation's location is overruled by the outer one.
 */
export function updateMany(root: unknown, ops: readonly { location: Location; value: unknown }[]): unknown {
  const trie: Trie = { children: new Map() };
  for (const { location, value } of ops) {
    let node = trie;
    for (const key of location) {
      if (node.op) break;
      let child = node.children.get(key);
      if (!child) {
        child = { children: new Map() };
        node.children.set(key, child);
      }
      node = child;
    }
    node.op ??= { value };
  }
  return apply(root, trie);
}

function apply(value: unknown, node: Trie): unknown {
  if (node.op) return node.op.value;
  if (!isContainer(value) || node.children.size === 0) return value;
  const out = copy(value);
  const removed: (string | number)[] = [];
  for (const [key, child] of node.children) {
    if (!Object.hasOwn(value, key)) continue;
    const next = apply((value as Record<string | number, unknown>)[key], child);
    if (next === REMOVE) removed.push(key);
    else if (Array.isArray(out)) out[key as number] = next;
    else define(out, String(key), next);
  }
  if (Array.isArray(out)) {
    const gone = new Set(removed as number[]);
    return gone.size > 0 ? out.filter((_, i) => !gone.has(i)) : out;
  }
  for (const key of removed) delete out[key as string];
  return out;
}

/** The value at `location` in `root` (own properties only), or undefined when there is none. */
export function valueAt(root: unknown, location: Location): unknown {
  let value = root;
  for (const key of location) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}
