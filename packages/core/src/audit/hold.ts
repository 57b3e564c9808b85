import type { IBaseProtocol } from 'pg-promise';
import { InferlogConfigError } from '../errors';
import { lockKey } from '../sink/migrate';
import { logTableNames } from '../sink/names';
import type { Database } from '../sink/pgp';

/** The legal hold of a log table: while it is active, retention drops nothing (not even with `force`). */
export interface HoldState {
  /** True while the hold is on. */
  active: boolean;
  /** Why the hold was last set or lifted; null when it never was. */
  reason: string | null;
  /** Who last set or lifted it; null when nobody ever did. */
  actor: string | null;
  /** When it was last set or lifted; null when it never was. */
  since: Date | null;
}

const NEVER: HoldState = { active: false, reason: null, actor: null, since: null };

/** The hold as the database has it now (inside a transaction: as that transaction sees it). Never held: `active: false` and nulls. */
export async function holdStatus(db: Database | IBaseProtocol<unknown>, schema: string, table: string): Promise<HoldState> {
  const row = await db.oneOrNone('SELECT active, reason, actor, since FROM $1:name.$2:name', [schema, logTableNames(schema, table).hold]);
  return row ? { active: row.active, reason: row.reason, actor: row.actor, since: row.since } : { ...NEVER };
}

/**
 * Sets (`active: true`) or lifts (`active: false`) the legal hold of a log table, with the reason and who
 * did it, and records the change in `<table>_audit` (action `hold on` / `hold off`, the previous state in
 * `details`), both in one transaction. It takes the schema's advisory lock, so a retention run already
 * under way finishes first and one that starts later sees the hold. Returns the new state.
 */
export async function setHold(
  db: Database,
  schema: string,
  table: string,
  opts: { active: boolean; reason: string; actor: string },
): Promise<HoldState> {
  const { active, reason, actor } = opts ?? ({} as typeof opts);
  if (typeof active !== 'boolean')
    throw new InferlogConfigError(`setHold needs active: true (set the hold) or false (lift it), got ${JSON.stringify(active)}`);
  if (typeof reason !== 'string' || reason.trim() === '')
    throw new InferlogConfigError(
      `a legal hold needs a reason (the case, order or request it is for): ${active ? 'setting' : 'lifting'} it without one is refused`,
    );
  if (typeof actor !== 'string' || actor.trim() === '')
    throw new InferlogConfigError(`a legal hold needs an actor (who ${active ? 'sets' : 'lifts'} it): the audit table records it`);
  const names = logTableNames(schema, table);
  return db.tx('inferlog-hold', async (t) => {
    await t.one('SELECT pg_advisory_xact_lock(hashtext($1)) AS locked', [lockKey(schema)]);
    const previous = await holdStatus(t, schema, table);
    const row = await t.one(
      `INSERT INTO $1:name.$2:name AS h (one, active, reason, actor, since) VALUES (true, $3, $4, $5, now())
       ON CONFLICT (one) DO UPDATE SET active = excluded.active, reason = excluded.reason, actor = excluded.actor, since = excluded.since
       RETURNING active, reason, actor, since`,
      [schema, names.hold, active, reason.trim(), actor.trim()],
    );
    await t.none('INSERT INTO $1:name.$2:name (actor, action, reason, details) VALUES ($3, $4, $5, $6)', [
      schema,
      names.audit,
      actor.trim(),
      active ? 'hold on' : 'hold off',
      reason.trim(),
      { previous },
    ]);
    return { active: row.active, reason: row.reason, actor: row.actor, since: row.since };
  });
}
