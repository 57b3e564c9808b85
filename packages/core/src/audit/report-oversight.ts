import { logTableNames } from '../sink/names';
import type { Queryable } from '../sink/pgp';
import { filterSql } from './filter';
import { BREAKDOWN_LIMIT } from './report-logged';

/** Oversight events of one type on one UTC day. */
export interface EventDay {
  /** The UTC day, `YYYY-MM-DD`. */
  day: string;
  type: string;
  events: number;
}

/** Events by one value of a column (a type, an actor). */
export interface EventCount {
  /** The value; null for events that named no actor. */
  value: string | null;
  events: number;
}

/** Human oversight in a period: the events recorded in it (Art. 14, 12(3)(d)) and how many of its inferences they cover. */
export interface OversightSection {
  /** Events recorded (`created_at`) in the period. */
  events: number;
  /** By type, most first (at most {@link BREAKDOWN_LIMIT}; `types_beyond_limit` counts the rest). */
  by_type: EventCount[];
  types_beyond_limit: number;
  /** By UTC day and type: by day, then type. */
  by_day: EventDay[];
  /** Distinct actors named by the period's events. */
  actors: number;
  /** By actor, most first (at most {@link BREAKDOWN_LIMIT}; `actors_beyond_limit` counts the rest); events without an actor as `null`. */
  by_actor: EventCount[];
  actors_beyond_limit: number;
  /** Distinct subjects (inference ids or request ids) the period's events are about. */
  subjects: number;
  /** The period's inferences that have at least one event about them (recorded at any time up to the report). */
  inferences_with_events: number;
  /** The events about the period's inferences (recorded at any time up to the report). */
  events_about_inferences: number;
}

/** A subject that is an inference's id as `id::text` prints it (lower case), as the export's semi-join matches them. */
const LOWER_UUID = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

function counts(rows: Record<string, unknown>[]): { list: EventCount[]; beyond: number } {
  const list = rows.map((r) => ({ value: r.value as string | null, events: Number(r.events) }));
  return { list: list.slice(0, BREAKDOWN_LIMIT), beyond: Math.max(0, list.length - BREAKDOWN_LIMIT) };
}

/**
 * The oversight events recorded between `since` and `until`, by type, day and actor; and, of the
 * inferences that started in the period, how many have events about them (by id or request id, as
 * `showInference` and the export match them). The events table has no index on `created_at`: the
 * period's events are one sequential read of it; the inferences are read by `started_at` (partitions
 * of the period only) and joined by hashing the events' subjects.
 */
export async function oversightIn(t: Queryable, schema: string, table: string, since: Date, until: Date): Promise<OversightSection> {
  const events = logTableNames(schema, table).events;
  // Completeness statements are the writers' own, not oversight (`inferlog.` types are reserved to inferlog).
  const inPeriod = "created_at >= $3 AND created_at < $4 AND type NOT LIKE 'inferlog.%'";
  const params = [schema, events, since, until];
  const totals = await t.one(
    `SELECT count(*) AS events, count(DISTINCT actor) AS actors, count(DISTINCT subject) AS subjects
       FROM $1:name.$2:name WHERE ${inPeriod}`,
    params,
  );
  const byDay = await t.any(
    `SELECT to_char(date_trunc('day', created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day, type, count(*) AS events
       FROM $1:name.$2:name WHERE ${inPeriod} GROUP BY 1, 2 ORDER BY 1, 2`,
    params,
  );
  const byType = counts(
    await t.any(`SELECT type AS value, count(*) AS events FROM $1:name.$2:name WHERE ${inPeriod} GROUP BY 1 ORDER BY 2 DESC, 1`, params),
  );
  const byActor = counts(
    await t.any(
      `SELECT actor AS value, count(*) AS events FROM $1:name.$2:name WHERE ${inPeriod} GROUP BY 1 ORDER BY 2 DESC, 1 NULLS LAST`,
      params,
    ),
  );
  // Pairs (inference, event subject), each once: an inference whose request id is its own id is matched twice otherwise.
  const covered = await t.one(
    `WITH s AS (SELECT subject, count(*) AS n FROM $1:name.$2:name WHERE type NOT LIKE 'inferlog.%' GROUP BY subject),
          l AS (SELECT id, request_id FROM $1:name.$3:name WHERE $4:raw),
          m AS (SELECT l.id, s.subject, s.n FROM l JOIN s ON s.subject = l.request_id
                UNION
                SELECT l.id, s.subject, s.n FROM l JOIN s ON l.id = CASE WHEN s.subject ~ '${LOWER_UUID}' THEN s.subject::uuid END)
     SELECT count(DISTINCT id) AS inferences, coalesce(sum(n), 0) AS events FROM m`,
    [schema, events, table, filterSql({ since, until })],
  );
  return {
    events: Number(totals.events),
    by_type: byType.list,
    types_beyond_limit: byType.beyond,
    by_day: byDay.map((r) => ({ day: r.day, type: r.type, events: Number(r.events) })),
    actors: Number(totals.actors),
    by_actor: byActor.list,
    actors_beyond_limit: byActor.beyond,
    subjects: Number(totals.subjects),
    inferences_with_events: Number(covered.inferences),
    events_about_inferences: Number(covered.events),
  };
}
