import { readRegistrations } from './export-events';
import type { AnchorProblem } from './anchors';
import type { Snapshot } from './cursor';
import type { ExportManifest, ManifestRegistration } from './manifest';

/** A chain as the export recorded it: its kind, the rows the export held of it, and its registration (manifest_version 2). */
interface RecordedChain {
  kind: 'record' | 'event';
  rows: number;
  registration: ManifestRegistration | null;
}

/** The registration's fields that never change after a writer registers its chain. */
const IDENTITY = ['kind', 'started_at', 'host', 'pid', 'service', 'service_version'] as const;

/** Every chain the manifest names, records' and events', with what it recorded of each. */
function recordedChains(manifest: ExportManifest): Map<string, RecordedChain> {
  const chains = new Map<string, RecordedChain>();
  const add = (chainId: string | null, kind: RecordedChain['kind'], rows: number) => {
    if (chainId !== null) chains.set(chainId, { kind, rows, registration: null });
  };
  for (const c of manifest.chains) add(c.chain_id, 'record', c.rows);
  for (const c of manifest.events?.chains ?? []) add(c.chain_id, 'event', c.rows);
  for (const r of manifest.registrations ?? [])
    chains.set(r.chain_id, { kind: r.kind, rows: chains.get(r.chain_id)?.rows ?? 0, registration: r });
  return chains;
}

/**
 * Every chain an earlier export recorded must still be registered in the chain table, as it was: a
 * writer registers its chain once and only its head moves, forward; retention drops rows, never
 * registrations. A registration deleted (with the chain's rows, which then leave nothing for `verify`
 * to see), rewritten, or with its head moved back is a problem. What the export did not record (its
 * version 1 manifest has no registrations) is not compared.
 */
export async function checkRegistrations(
  t: Snapshot,
  schema: string,
  table: string,
  manifest: ExportManifest,
  problem: (p: AnchorProblem) => void,
): Promise<void> {
  const recorded = recordedChains(manifest);
  // Read as an export records them, so each field compares with the manifest's as it is.
  const stored = new Map((await readRegistrations(t, schema, table, [...recorded.keys()])).map((r) => [r.chain_id, r]));
  // The last row of each chain in the export: a head there is already compared row by row.
  const lastInFile = new Set([...manifest.chains, ...(manifest.events?.chains ?? [])].map((c) => `${c.chain_id}:${c.last_seq}`));
  const when = `the export of ${manifest.exported_at}`;
  for (const [chainId, { kind, rows, registration: r }] of recorded) {
    const table = kind === 'record' ? 'records' : 'events';
    const now = stored.get(chainId);
    if (!now) {
      problem({
        kind: 'missing',
        table,
        chain_id: chainId,
        seq: null,
        message: `chain ${chainId} (${kind}, host ${r ? (r.host ?? 'not recorded') : 'not in the manifest'}, ${rows} rows in ${when}) is no longer registered in the database and retention does not drop registrations: deleted`,
      });
      continue;
    }
    if (!r) continue;
    // The key too, where the export recorded one (a key swapped would let someone re-sign the chain).
    const fields = [
      ...IDENTITY,
      ...(r.public_key === undefined ? [] : ['public_key' as const]),
      ...(r.statement_interval_ms === undefined ? [] : ['statement_interval_ms' as const]),
    ];
    const changed = fields.filter((field) => (now[field] ?? null) !== r[field]);
    if (changed.length)
      problem({
        kind: 'changed',
        table,
        chain_id: chainId,
        seq: null,
        message: `chain ${chainId}: ${when} recorded its registration with ${changed.map((f) => `${f} ${JSON.stringify(r[f])}`).join(', ')}; the database now holds ${changed.map((f) => `${f} ${JSON.stringify(now[f])}`).join(', ')}: the registration was rewritten`,
      });
    const seq = now.last_seq;
    if (seq < r.last_seq)
      problem({
        kind: 'changed',
        table,
        chain_id: chainId,
        seq: r.last_seq,
        message: `chain ${chainId}: its head is at seq ${seq}, but ${when} recorded it at seq ${r.last_seq} and heads only move forward: rows were cut from its end and the head moved back`,
      });
    else if (seq === r.last_seq && now.last_hash !== r.last_hash && !lastInFile.has(`${chainId}:${seq}`))
      problem({
        kind: 'changed',
        table,
        chain_id: chainId,
        seq,
        message: `chain ${chainId}: ${when} recorded its head at seq ${seq} with hash ${r.last_hash}; the database now holds ${now.last_hash}: the chain was rewritten after that export`,
      });
  }
}
