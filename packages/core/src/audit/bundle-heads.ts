import { headSignatureValid } from '../chain/head-signature';
import type { BundleChainSummary, BundleProblem } from './bundle';
import type { ExportManifest, ManifestChain, ManifestRegistration } from './manifest';

/**
 * The chain heads a manifest (version 2) recorded, checked offline, and each chain of the files marked
 * `signed` when its head is. Every chain of the manifest must have a registration of its kind, and every
 * registration a `public_key` property (version 2 and chain keys came together): a registration with a
 * key must carry that key's signature of the head it records; one without (null) is a chain registered
 * before chain keys, allowed only without a server-side origin (one with an origin had a key, which was
 * removed). A chain whose last row in the files is the signed head must end on its hash; in an unfiltered
 * export every chain must end there (nothing was left out, so a file that stops short was cut). The
 * manifest can be rewritten along with the files, but a head not signed again without the writer's
 * private key, which never left its memory.
 */
export function checkManifestHeads(
  manifest: ExportManifest,
  inFiles: { records: readonly BundleChainSummary[]; events: readonly BundleChainSummary[] },
  problem: (p: BundleProblem) => void,
): void {
  if (manifest.manifest_version !== 2) return; // version 1: no registrations (the report warns)
  const registrations = new Map((manifest.registrations ?? []).map((r) => [`${r.kind} ${r.chain_id}`, r]));
  const unfiltered = Object.keys(manifest.filters ?? {}).length === 0;
  const sections: [ManifestRegistration['kind'], BundleProblem['table'], readonly ManifestChain[]][] = [
    ['record', 'records', manifest.chains],
    ['event', 'events', manifest.events?.chains ?? []],
  ];
  const unused = new Set(registrations.values());
  for (const [kind, table, chains] of sections) {
    const found = new Map(inFiles[table].map((c) => [c.chain_id, c]));
    for (const { chain_id: chainId } of chains) {
      if (chainId === null) continue;
      const chain = found.get(chainId);
      const head = (seq: number | null, message: string, kindOf: BundleProblem['kind'] = 'head') => {
        if (chain) chain.ok = false;
        problem({ table, line: null, row: null, chain_id: chainId, seq, id: null, kind: kindOf, message });
      };
      const r = registrations.get(`${kind} ${chainId}`);
      if (!r) {
        head(
          null,
          `chain ${chainId} has no registration in the manifest: an export records every chain it holds with its key and signed head, so it was removed from the manifest`,
        );
        continue;
      }
      unused.delete(r);
      if (!signedHeadHolds(r, head)) continue;
      if (!chain) continue; // the chain is missing from its file: named there
      chain.signed = r.public_key !== null;
      if (chain.last_seq === r.last_seq && chain.last_hash !== r.last_hash)
        head(
          r.last_seq,
          `chain ${chainId}: its last row in the export (seq ${r.last_seq}) has hash ${chain.last_hash}, but its writer signed ${r.last_hash} for that seq: the row was replaced`,
        );
      else if (chain.last_seq !== null && chain.last_seq > r.last_seq)
        head(
          chain.last_seq,
          `chain ${chainId} reaches seq ${chain.last_seq} in the file, past seq ${r.last_seq}, the head its writer had signed when the export was taken: rows were added`,
          'inserted',
        );
      else if (unfiltered && chain.last_seq !== null && chain.last_seq < r.last_seq)
        head(
          chain.last_seq,
          `chain ${chainId} ends at seq ${chain.last_seq} in the file but its writer had signed seq ${r.last_seq} when the export was taken: rows were cut from the end`,
          'missing',
        );
    }
  }
  // A registration of no chain in the files is checked all the same: a manifest's heads are signed or not at all.
  for (const r of unused)
    signedHeadHolds(r, (seq, message) =>
      problem({
        table: r.kind === 'record' ? 'records' : 'events',
        line: null,
        row: null,
        chain_id: r.chain_id,
        seq,
        id: null,
        kind: 'head',
        message,
      }),
    );
}

/** Whether the registration's head stands (signed by its key, or a legacy chain that never had one); names it when not. */
function signedHeadHolds(r: ManifestRegistration, head: (seq: number | null, message: string) => void): boolean {
  if (!Object.hasOwn(r, 'public_key')) {
    head(
      r.last_seq,
      `chain ${r.chain_id}: its registration in the manifest has no public_key, which every version 2 manifest records (null for a chain registered before chain keys): the key was removed from the manifest`,
    );
    return false;
  }
  if (r.public_key === null || r.public_key === undefined) {
    if (r.origin === null) return true;
    head(
      r.last_seq,
      `chain ${r.chain_id}: the manifest records no public key for it, though it was registered when keys were required (it has a server-side origin): the key was removed from the manifest`,
    );
    return false;
  }
  if (r.last_seq > 0 && !headSignatureValid(r.public_key, r.chain_id, r.last_seq, r.last_hash, r.head_signature ?? null)) {
    head(
      r.last_seq,
      `chain ${r.chain_id}: the head the manifest records (seq ${r.last_seq}, hash ${r.last_hash}) is not signed by the key its writer registered: the manifest was rewritten`,
    );
    return false;
  }
  return true;
}
