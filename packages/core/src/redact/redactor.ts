import { isUtf8 } from 'node:buffer';
import { BASE64_PREFIX, bytesOfStored, storedString } from '../stored-bytes';
import type { CompiledAction } from './actions';
import type { Detector, Found } from './detectors';
import { normalView, originalEnd, originalStart } from './normal-view';
import { PAYLOAD_FIELDS, type CompiledRule, type RecordPart } from './rules';
import { updateMany, valueAt, type Location } from './update';

/** The record's parts as rules see them: the root of every JSONPath. */
export type RecordParts = Partial<Record<RecordPart, unknown>>;

export interface Redacted {
  parts: RecordParts;
  /** Ids of the rules and detectors that fired, in the order they first did; never the values. */
  fired: string[];
}

type Find = Found & { detector: Detector };

/** The detectors' finds in a text, earliest first (the longer first where two start together), each with who found it. */
function findAll(text: string, detectors: readonly Detector[]): Find[] {
  const all = detectors.flatMap((d) => d.find(text).map((f) => ({ ...f, detector: d })));
  if (all.length > 1) all.sort((a, b) => a.start - b.start || b.end - a.end);
  return all;
}

/**
 * The finds grouped where they overlap (a phone number whose last digits are the first group of a card
 * number written after it): each group is replaced whole, so no part of either value is left behind.
 */
function overlapping(finds: readonly Find[]): { start: number; end: number; finds: Find[] }[] {
  const groups: { start: number; end: number; finds: Find[] }[] = [];
  for (const f of finds) {
    const last = groups[groups.length - 1];
    if (last && f.start < last.end) {
      last.end = Math.max(last.end, f.end);
      last.finds.push(f);
    } else {
      groups.push({ start: f.start, end: f.end, finds: [f] });
    }
  }
  return groups;
}

/** Runs a rule's detectors over every text (keys too) and integer member inside a value, copy-on-write. */
class Scan {
  /** Texts without any of the characters every detected value has are not searched (most keys and names). */
  private readonly hint: RegExp;
  private readonly numeric: readonly Detector[];

  constructor(
    private readonly detectors: readonly Detector[],
    private readonly action: CompiledAction,
    private readonly fire: (detector: Detector) => void,
  ) {
    this.hint = new RegExp(`[${[...new Set(detectors.map((d) => d.hint))].join('')}]`);
    this.numeric = detectors.filter((d) => d.numeric);
  }

  /**
   * `text` with what the detectors find replaced. They search its normal view (normal-view.ts: NFKC,
   * invisible characters out, every space a separator); the action replaces the original characters.
   */
  text(text: string): string {
    if (text.startsWith(BASE64_PREFIX)) return this.storedBytes(text);
    return this.plainText(text);
  }

  /**
   * Bytes in their stored form (`base64:` + base64, stored-bytes.ts): when they are UTF-8 (a text with a
   * control character, stored as bytes), the detectors read that text, and what they change is stored
   * as bytes again; other bytes are not text a detector could read.
   */
  private storedBytes(stored: string): string {
    const bytes = bytesOfStored(stored);
    if (!isUtf8(bytes)) return stored;
    const inner = bytes.toString('utf8');
    const out = this.plainText(inner);
    return out === inner ? stored : storedString(out);
  }

  private plainText(text: string): string {
    const view = normalView(text);
    if (!this.hint.test(view.text)) return text;
    const finds = findAll(view.text, this.detectors);
    if (finds.length === 0) return text;
    let out = '';
    let at = 0;
    for (const group of overlapping(finds)) {
      const start = originalStart(view, group.start);
      const replaced = group.finds.map((f) =>
        this.action.text(text.slice(originalStart(view, f.start), originalEnd(view, f.end)), f.normal),
      );
      out += text.slice(at, start) + [...new Set(replaced)].filter((r) => r !== '').join(' ');
      at = originalEnd(view, group.end);
      for (const f of group.finds) this.fire(f.detector);
    }
    return out + text.slice(at);
  }

  /**
   * An integer sent as a JSON number that is, whole, a BSN (possibly with its leading zero lost) or a
   * card number. Only members of objects (`{"bsn": 111222333}`) are looked at: in lists — tensor data,
   * ids, timestamps — one number in eleven passes the 11-proef and one in ten passes Luhn by chance.
   */
  private integer(value: number | bigint): unknown {
    if (this.numeric.length === 0 || value < 0 || (typeof value === 'number' && !Number.isSafeInteger(value))) return value;
    const digits = String(value);
    for (const candidate of digits.length === 8 ? [digits, `0${digits}`] : [digits]) {
      const found = overlapping(findAll(candidate, this.numeric));
      if (found.length === 1 && found[0]!.start === 0 && found[0]!.end === candidate.length) return this.text(candidate);
    }
    return value;
  }

  value(value: unknown, member = false): unknown {
    if (typeof value === 'string') return this.text(value);
    if (typeof value === 'number' || typeof value === 'bigint') return member ? this.integer(value) : value;
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
      const next = this.value(child, true);
      if (!out && (nextKey !== key || next !== child)) out = Object.entries(value).slice(0, index);
      out?.push([nextKey, next]);
      index++;
    }
    return out ? Object.fromEntries(distinctKeys(out)) : value;
  }
}

/** Entries whose keys redaction made equal get `#2`, `#3`, … so that no member is lost by merging. */
function distinctKeys(entries: [string, unknown][]): [string, unknown][] {
  const seen = new Map<string, number>();
  return entries.map(([key, value]) => {
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return [n === 1 ? key : `${key}#${n}`, value];
  });
}

/**
 * Applies a route's rules to a record's parts: first every rule that selects by path or tensor name, in
 * the order given (so a pseudonym is made of the value itself, never of text a detector already
 * masked), then the detector rules. A rule's selections are all found on the same document and changed
 * in one pass. Nothing is modified in place — the parts may be the app's own objects. The parts must nest
 * no deeper than MAX_JSON_DEPTH (`limitDepth`), as every record's parts do.
 */
export class Redactor {
  readonly rules: readonly CompiledRule[];
  /** Whether any rule selects by path or tensor name (such rules cannot be applied to a body that is not JSON). */
  readonly selects: boolean;
  /** Whether any rule runs detectors. */
  readonly detects: boolean;
  /**
   * Whether any rule selects a mapped payload field (`$.parameters…`, `input: 'ssn'`, …). Such rules
   * cannot reach those values in a raw body kept because the payload could not be mapped.
   */
  readonly selectsPayloadFields: boolean;

  /** Every detector of the rules, for cuts that must not leave the start of what they would find. */
  private readonly detectors: readonly Detector[];

  constructor(rules: readonly CompiledRule[]) {
    this.rules = [...rules.filter((r) => r.detectors.length === 0), ...rules.filter((r) => r.detectors.length > 0)];
    this.detectors = [...new Set(rules.flatMap((r) => r.detectors))];
    this.selects = rules.some((r) => r.selectors !== null);
    this.detects = rules.some((r) => r.detectors.length > 0);
    this.selectsPayloadFields = rules.some(
      (r) => r.selectors?.some((sel) => sel.parts?.some((part) => PAYLOAD_FIELDS.includes(part))) ?? false,
    );
  }

  /**
   * A free text (a report, an error message) with what the rules' detectors find replaced, as they
   * replace it in a record's texts. Path rules select nothing in it.
   */
  scrub(text: string): string {
    let out = text;
    for (const rule of this.rules) {
      if (rule.selectors === null && rule.detectors.length > 0) out = new Scan(rule.detectors, rule.action, () => {}).text(out);
    }
    return out;
  }

  /**
   * What a path rule's action makes of a selected value. A text `truncate` cuts is not cut inside a value
   * the detectors find in it (they could no longer recognise the rest, and its start would be stored): the
   * cut moves to that value's start. A value that is the whole text is cut where the rule says (a card
   * number truncated on purpose keeps its first digits).
   */
  private selected(action: CompiledAction, value: unknown): unknown {
    if (action.keep === undefined || typeof value !== 'string' || value.length <= action.keep || this.detectors.length === 0)
      return action.value(value);
    const view = normalView(value);
    const spans = findAll(view.text, this.detectors)
      .map((f) => ({ start: originalStart(view, f.start), end: originalEnd(view, f.end) }))
      .filter((span) => span.start > 0 || span.end < value.length);
    let cut = action.keep;
    for (let moved = true; moved; ) {
      moved = false;
      for (const span of spans) {
        if (span.start < cut && cut < span.end) {
          cut = span.start;
          moved = true;
        }
      }
    }
    return value.slice(0, cut);
  }

  apply(input: RecordParts): Redacted {
    const fired = new Set<string>();
    let doc = input;
    for (const rule of this.rules) {
      const scan = rule.detectors.length > 0 ? new Scan(rule.detectors, rule.action, (d) => fired.add(rule.id ?? d.name)) : null;
      if (!rule.selectors) {
        doc = scan!.value(doc) as RecordParts;
        continue;
      }
      const ops: { location: Location; value: unknown }[] = [];
      const seen = new Set<string>();
      for (const selector of rule.selectors) {
        const locations = selector.find(doc).filter((l) => l.length > 0 && !seen.has(l.join('\u0000')));
        if (locations.length === 0) continue;
        if (!scan) fired.add(rule.id ?? selector.label);
        for (const location of locations) {
          seen.add(location.join('\u0000'));
          const current = valueAt(doc, location);
          // A number a path selects as an object's member is looked at as a detector-only rule would (`{"bsn": 111222333}`).
          ops.push({
            location,
            value: scan ? scan.value(current, typeof location.at(-1) === 'string') : this.selected(rule.action, current),
          });
        }
      }
      if (ops.length > 0) doc = updateMany(doc, ops) as RecordParts;
    }
    return { parts: doc, fired: [...fired] };
  }
}

/** The parts after a route's redaction rules (the same object when it has none), and the ids that fired. */
export function redact(redactor: Redactor | null, parts: RecordParts): Redacted {
  return redactor ? redactor.apply(parts) : { parts, fired: [] };
}
