import type { Chain, Chained } from './chain';

/** What a chain writer needs of the store. */
export interface ChainStore {
  /** Registers the chain (its public key and token hash) and keeps the chain to sign the heads of its rows. */
  registerChain(chain: Chain): Promise<void>;
  chainHead(chainId: string): Promise<{ seq: number; hash: string | null }>;
}

/**
 * Writes rows into one hash chain (records and oversight events alike). Rows are sealed right before
 * their write. When a write fails the seals come off, and since some rows may be stored all the same,
 * the chain's head is read back from the database before the next seal, so the chain has no gaps.
 */
export class ChainWriter {
  private registered = false;
  private inSync = true;
  /** The chain's last row known stored (what a completeness statement says the chain holds). */
  stored: { seq: number; hash: string | null } = { seq: 0, hash: null };

  constructor(readonly chain: Chain) {}

  /** Whether the chain is registered in the chain table. */
  get isRegistered(): boolean {
    return this.registered;
  }

  /** Registers the chain in the chain table, once. */
  async register(store: ChainStore): Promise<void> {
    if (this.registered) return;
    await store.registerChain(this.chain);
    this.registered = true;
  }

  /** Registers the chain if needed and, after a failed write, sets the head to what the database recorded. */
  async ready(store: ChainStore): Promise<void> {
    await this.register(store);
    if (this.inSync) return;
    const head = await store.chainHead(this.chain.id);
    this.chain.resync(head.seq, head.hash);
    this.stored = head;
    this.inSync = true;
  }

  /** Seals `rows` and writes them with `write`; when that fails, takes the seals off and rethrows. */
  async sealAndWrite<T extends Chained>(rows: T[], write: (rows: T[]) => Promise<void>): Promise<void> {
    this.chain.seal(rows);
    try {
      await write(rows);
      this.stored = this.chain.last;
    } catch (err) {
      this.chain.unseal(rows);
      this.inSync = false;
      throw err;
    }
  }
}
