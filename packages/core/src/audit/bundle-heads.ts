import { headSignatureValid } from '../chain/head-signature';
import type { BundleChainSummary, BundleProblem } from './bundle';
import type { ExportManifest } from './manifest';

/**
 * The chain heads a manifest recorded, checked offline: each registration with a public key must carry
 * that key's signature of the head it records, and a chain whose last row in the files is that head
 * must end on the head's hash. The manifest can be rewritten along with the files, but not signed again
 * without the writer's private key, which never left its memory. A registration with a server-side
 * origin (registered once keys were required) but no key was stripped of it.
 */
export function checkManifestHeads(
  manifest: ExportManifest,
  inFiles: readonly BundleChainSummary[],
  problem: (p: BundleProblem) => void,
): void {
  const last = new Map(inFiles.map((c) => [c.chain_id, c]));
  for (const r of manifest.registrations ?? []) {
    const table = r.kind === 'record' ? 'records' : 'events';
    const at = { table, line: null, row: null, chain_id: r.chain_id, seq: r.last_seq, id: null } as const;
    if (r.public_key === undefined) continue; // written before chain keys: nothing to check
    if (r.public_key === null) {
      if (r.origin)
        problem({
          ...at,
          kind: 'head',
          message: `chain ${r.chain_id}: the manifest records no public key for it, though it was registered when keys were required: the key was removed from the manifest`,
        });
      continue;
    }
    if (r.last_seq > 0 && !headSignatureValid(r.public_key, r.chain_id, r.last_seq, r.last_hash, r.head_signature ?? null)) {
      problem({
        ...at,
        kind: 'head',
        message: `chain ${r.chain_id}: the head the manifest records (seq ${r.last_seq}, hash ${r.last_hash}) is not signed by the key its writer registered: the manifest was rewritten`,
      });
      continue;
    }
    const chain = last.get(r.chain_id);
    if (chain && chain.last_seq === r.last_seq && chain.last_hash !== r.last_hash)
      problem({
        ...at,
        kind: 'head',
        message: `chain ${r.chain_id}: its last row in the export (seq ${r.last_seq}) has hash ${chain.last_hash}, but its writer signed ${r.last_hash} for that seq: the row was replaced`,
      });
  }
}
