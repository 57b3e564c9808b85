import type { Chained } from '../chain/chain';
import type { ChainColumn, EVENT_TABLE, Written } from '../columns';
import { RESERVED_EVENT_TYPE_PREFIX } from '../chain/statement';
import { InferlogError } from '../errors';
import { uuidv7 } from '../ids';
import { redact, type Redactor } from '../redact/redactor';
import { storedForm } from '../json';
import { limitDepth } from '../record/sanitize';

/**
 * What kind of oversight event: the common ones are named (AI Act Art. 14 human oversight, Art. 12(3)
 * verification, Art. 72/73 monitoring and incidents); any other non-empty name is accepted too.
 */
export type OversightEventType =
  | 'human_review'
  | 'override'
  | 'second_verifier'
  | 'feedback'
  | 'ground_truth'
  | 'incident'
  | (string & NonNullable<unknown>);

/** An oversight event about one inference, given to `event()`. */
export interface OversightEvent {
  /**
   * What happened: `human_review`, `override`, `second_verifier`, `feedback`, `ground_truth`, `incident`, or a
   * name of your own. Redacted by the global `redact` rules, like `actor` and `data` (`$.type`).
   */
  type: OversightEventType;
  /** Who: a reviewer's pseudonymous id, a system's name. */
  actor?: string;
  /** The event's details (decision, label, comment, …), JSON. Redacted by the global `redact` rules as if it were `annotations`. */
  data?: unknown;
  /** Your id for the event (a UUID): sending the same event again with the same id never stores it twice. Default: a new UUIDv7. */
  id?: string;
}

/** An oversight event as stored in `<table>_event`. */
export interface StoredEvent extends Chained, Written<Omit<typeof EVENT_TABLE, ChainColumn>> {}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_TEXT = 200;

/** An event was sent with the id of a stored event whose content differs: the id is taken, nothing was stored. */
export class EventConflictError extends InferlogError {
  constructor(id: string, field: string) {
    super(
      'E_EVENT',
      `the oversight event id ${id} is already stored for an event with another ${field}: an id names one event; send a new event with a new id (or none)`,
    );
  }
}

/** Whether `row` (not yet sealed) is the event stored as `stored`: the same subject, type, actor and data. Returns the first field that differs. */
export function differingField(row: StoredEvent, stored: StoredEvent, sameJson: (a: unknown, b: unknown) => boolean): string | null {
  if (stored.subject !== row.subject) return 'subject';
  if (stored.type !== row.type) return 'type';
  if ((stored.actor ?? null) !== (row.actor ?? null)) return 'actor';
  if (!sameJson(stored.data, row.data)) return 'data';
  return null;
}

/** Refuses an event; the message passes the rules' detectors, since it may quote what the event holds. */
function invalid(message: string, redactor: Redactor | null = null): never {
  throw new InferlogError('E_EVENT', `invalid oversight event: ${redactor ? redactor.scrub(message) : message}`);
}

function text(name: string, value: unknown, required: boolean): string | null {
  if (value === undefined || value === null)
    return required ? invalid(`"${name}" is required (a string of 1 to ${MAX_TEXT} characters)`) : null;
  if (typeof value !== 'string' || value === '' || value.length > MAX_TEXT)
    invalid(
      `"${name}" must be a string of 1 to ${MAX_TEXT} characters; got ${typeof value === 'string' ? `${value.length} characters` : typeof value}`,
    );
  return value;
}

/** A required text as redaction left it: `[withheld]` when a rule removed it whole. */
const storedText = (value: unknown): string => (typeof value === 'string' && value !== '' ? value : '[withheld]');

/** Checks an event and makes its row (not yet sealed): data cut to the stored depth and redacted. */
export function eventRow(subject: unknown, event: unknown, redactor: Redactor | null): StoredEvent {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) invalid('it must be an object { type, actor?, data?, id? }');
  const e = event as Record<string, unknown>;
  for (const key of Object.keys(e))
    if (!['type', 'actor', 'data', 'id'].includes(key)) invalid(`unknown field "${key}"; fields are type, actor, data, id`, redactor);
  const id =
    e.id === undefined ? uuidv7() : typeof e.id === 'string' && UUID.test(e.id) ? e.id.toLowerCase() : invalid('"id" must be a UUID');
  let data: unknown = e.data === undefined ? null : limitDepth(e.data);
  try {
    if (JSON.stringify(data) === undefined) data = null;
  } catch (err) {
    invalid(`"data" must be JSON: ${(err as Error).message}`, redactor);
  }
  const subjectText = text('subject', subject, true)!;
  const actor = text('actor', e.actor, false);
  const type = text('type', e.type, true)!;
  if (type.startsWith(RESERVED_EVENT_TYPE_PREFIX))
    invalid(
      `"type" may not start with "${RESERVED_EVENT_TYPE_PREFIX}": those are the events inferlog writes itself (completeness statements)`,
    );
  // The subject is a record's id (never redacted) or a request id, redacted as the record's own request_id is,
  // so a pseudonymised request id still joins; the actor and the type (a free name) are scanned as any text is.
  const isRecordId = UUID.test(subjectText);
  const { parts, fired } = redact(redactor, {
    annotations: storedForm(data),
    actor,
    type,
    ...(isRecordId ? {} : { request_id: subjectText }),
  });
  const row: StoredEvent = {
    id,
    created_at: new Date(),
    subject: isRecordId ? subjectText : storedText(parts.request_id),
    type: storedText(parts.type),
    actor: typeof parts.actor === 'string' && parts.actor !== '' ? parts.actor : null,
    data: parts.annotations ?? null,
    redactions: fired,
  };
  // A UUID subject is taken for a record's id, never redacted: but it may be a client's request id that
  // the rules would have stored otherwise. Which one it is only the log knows (see `subjectAsRequestId`).
  if (isRecordId && redactor) {
    const asRequestId = storedText(redact(redactor, { request_id: subjectText }).parts.request_id);
    if (asRequestId !== subjectText) requestIdForms.set(row, asRequestId);
  }
  return row;
}

const requestIdForms = new WeakMap<StoredEvent, string>();

/**
 * For an event whose subject looks like a record's id but would be stored otherwise as a request id (a
 * rule on `$.request_id` changes it): that request-id form. The store uses it unless a record has that id.
 */
export function subjectAsRequestId(row: StoredEvent): string | undefined {
  return requestIdForms.get(row);
}
