// The chain writer on its own: seals right before a write, takes the seals off when it fails, and reads
// the head back before the next seal, so a chain has no gaps whatever part of a failed write was stored.
import { Chain } from '../src/chain/chain';
import { ChainWriter, type ChainStore } from '../src/chain/chain-writer';
import type { Chained } from '../src/chain/chain';

/** The chain table as a store keeps it: registrations and the head of what was committed. */
class ChainTable implements ChainStore {
  registered: string[] = [];
  head = { seq: 0, hash: null as string | null };
  async registerChain(chain: Chain): Promise<void> {
    this.registered.push(chain.id);
  }
  async chainHead(): Promise<{ seq: number; hash: string | null }> {
    return { ...this.head };
  }
  commit(rows: Chained[]): void {
    const last = rows[rows.length - 1]!;
    this.head = { seq: last.chain_seq!, hash: last.record_hash! };
  }
}

const rows = (n: number, from = 0): Chained[] => Array.from({ length: n }, (_, i) => ({ id: `r${from + i}` }) as Chained);

test('registers once, seals in order, each row linked to the one before', async () => {
  const table = new ChainTable();
  const writer = new ChainWriter(new Chain('record', 'svc', '1'));
  const written: Chained[] = [];
  for (const batch of [rows(2), rows(2, 2)]) {
    await writer.ready(table);
    await writer.sealAndWrite(batch, async (sealed) => {
      written.push(...sealed);
      table.commit(sealed);
    });
  }
  expect(table.registered).toEqual([writer.chain.id]);
  expect(written.map((r) => r.chain_seq)).toEqual([1, 2, 3, 4]);
  for (let i = 1; i < written.length; i++) expect(written[i]!.prev_hash).toBe(written[i - 1]!.record_hash);
});

test('a failed write takes the seals off; the next seal continues from the head the store recorded', async () => {
  const table = new ChainTable();
  const writer = new ChainWriter(new Chain('event', null, null));
  const first = rows(1);
  await writer.ready(table);
  await writer.sealAndWrite(first, async (sealed) => table.commit(sealed));

  // The next write fails after its first row was committed (the answer was lost).
  const second = rows(2, 1);
  await expect(
    writer.sealAndWrite(second, async (sealed) => {
      table.commit(sealed.slice(0, 1));
      throw new Error('connection lost');
    }),
  ).rejects.toThrow('connection lost');
  expect(second.map((r) => r.chain_id)).toEqual([null, null]);

  await writer.ready(table); // reads the head back: seq 2
  const retry = second.slice(1);
  await writer.sealAndWrite(retry, async (sealed) => table.commit(sealed));
  expect(retry[0]).toMatchObject({ chain_seq: 3 });
  expect(table.head.seq).toBe(3);
});
