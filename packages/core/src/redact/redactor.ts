import type { CompiledAction } from './actions';
import type { Detector, Found } from './detectors';
import type { CompiledRule, RecordPart } from './rules';
import { REMOVE, removalOrder, setIn, type Location } from './update';

/** The record's parts as rules see them: the root of every JSONPath. */
export type RecordParts = Partial<Record<RecordPart, unknown>>;

export interface Redacted {
  parts: RecordParts;
  /** Ids of the rules and detectors that fired, in the order they first did; never the values. */
  fired: string[];
}

/** The detectors' finds in a text, overlaps resolved (earlier first, then longer), each with who found it. */
function findAll(text: string, detectors: readonly Detector[]): (Found & { detector: Detector })[] {
  const all = detectors.flatMap((d) => d.find(text).map((f) => ({ ...f, detector: d })));
  if (all.length <= 1) return all;
  all.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: (Found & { detector: Detector })[] = [];
  for (const f of all) if (kept.length === 0 || f.start >= kept[kept.length - 1].end) kept.push(f);
  return kept;
}

/** Runs a rule's detectors over every text (keys too) and integer inside a value, copy-on-write. */
class Scan {
  /** Texts without any of the characters every detected value has are not searched (most keys and names). */
  private readonly hint: RegExp;

  constructor(
    private readonly detectors: readonly Detector[],
    private readonly numeric: readonly Detector[],
    private readonly action: CompiledAction,
    private readonly fire: (detector: Detector) => void,
  ) {
    this.hint = new RegExp(`[${[...new Set(detectors.map((d) => d.hint))].join('')}]`);
  }

  text(text: string): string {
    if (!this.hint.test(text)) return text;
    const found = findAll(text, this.detectors);
    if (found.length === 0) return text;
    let out = '';
    let at = 0;
    for (const f of found) {
      out += text.slice(at, f.start) + this.action.text(text.slice(f.start, f.end), f.normal);
      at = f.end;
      this.fire(f.detector);
    }
    return out + text.slice(at);
  }

  value(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value);
    if (typeof value === 'number') {
      if (this.numeric.length === 0 || !Number.isSafeInteger(value)) return value;
      const digits = String(Math.abs(value));
      const found = findAll(digits, this.numeric);
      return found.length === 1 && found[0].start === 0 && found[0].end === digits.length ? this.text(digits) : value;
    }
    if (typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) {
      let out: unknown[] | null = null;
      for (let i = 0; i < value.length; i++) {
        const next = this.value(value[i]);
        if (next === value[i]) continue;
        out ??= value.slice();
        out[i] = next;
      }
      return out ?? value;
    }
    let out: [string, unknown][] | null = null;
    let index = 0;
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      const child = (value as Record<string, unknown>)[key];
      const nextKey = this.text(key);
      const next = this.value(child);
      if (!out && (nextKey !== key || next !== child)) out = Object.entries(value).slice(0, index);
      out?.push([nextKey, next]);
      index++;
    }
    return out ? Object.fromEntries(out) : value;
  }
}

/**
 * Applies a route's rules to a record's parts, in the order they are given: each rule's selections get
 * its action (or, with detectors, only the personal data found inside them); detector rules without a
 * path search every part. Nothing is modified in place — the parts may be the app's own objects. The
 * parts must nest no deeper than MAX_JSON_DEPTH (`limitDepth`), as every record's parts do.
 */
export class Redactor {
  constructor(readonly rules: readonly CompiledRule[]) {}

  apply(input: RecordParts): Redacted {
    const fired = new Set<string>();
    let doc = input;
    for (const rule of this.rules) {
      const scan = rule.detectors.length > 0 ? new Scan(rule.detectors, rule.detectors.filter((d) => d.numeric), rule.action, (d) => fired.add(rule.id ?? d.name)) : null;
      if (!rule.selectors) {
        doc = scan!.value(doc) as RecordParts;
        continue;
      }
      for (const selector of rule.selectors) {
        const locations = selector.find(doc).filter((l) => l.length > 0);
        if (locations.length === 0) continue;
        if (scan) {
          for (const location of locations) doc = setIn(doc, location, scan.value(valueAt(doc, location))) as RecordParts;
          continue;
        }
        fired.add(rule.id ?? selector.label);
        const replaced = locations.map((location) => [location, rule.action.value(valueAt(doc, location))] as const);
        for (const [location, value] of replaced) if (value !== REMOVE) doc = setIn(doc, location, value) as RecordParts;
        const removed = replaced.filter(([, value]) => value === REMOVE).map(([location]) => location as Location);
        for (const location of removed.sort(removalOrder)) doc = setIn(doc, location, REMOVE) as RecordParts;
      }
    }
    return { parts: doc, fired: [...fired] };
  }
}

/** The parts after a route's redaction rules (the same object when it has none), and the ids that fired. */
export function redact(redactor: Redactor | null, parts: RecordParts): Redacted {
  return redactor ? redactor.apply(parts) : { parts, fired: [] };
}

function valueAt(root: unknown, location: Location): unknown {
  let value = root;
  for (const key of location) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}
