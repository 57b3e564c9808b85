// The backlog on its own: bounded by captured bytes, the overflow policy, batches taken and given back.
import type { Exchange } from '../src/capture/exchange';
import type { CompiledRoute } from '../src/routes';
import { Backlog } from '../src/delivery/backlog';
import { Reporter } from '../src/delivery/reporter';
import type { InferenceRecord } from '../src/record/record';
import type { WriteAheadTicket } from '../src/delivery/write-ahead';
import type { LossReason } from '../src/chain/statement';

const exchange = (id: string, heldBytes: number) => ({ requestId: id, heldBytes }) as unknown as Exchange<CompiledRoute>;
const build = (x: Exchange<CompiledRoute>) => ({ id: x.requestId }) as InferenceRecord;

const names = {
  exchange: (x: Exchange<CompiledRoute>, reason: LossReason) => ({ id: x.requestId, request_id: x.requestId, at: '', reason }),
  record: (r: InferenceRecord, reason: LossReason) => ({ id: r.id, request_id: r.id, at: '', reason }),
};

function backlog(policy: 'wait' | 'drop-newest' | 'drop-oldest' | 'fail-closed', maxBytes = 100) {
  const drops: [number, string][] = [];
  const reporter = new Reporter({ onError: () => {}, onDrop: (count, message) => drops.push([count, message]) });
  return { backlog: new Backlog(maxBytes, policy, reporter, names), reporter, drops };
}

/** The ids of what the reporter holds as lost for the next completeness statement, by reason. */
const lostIds = (reporter: Reporter) => reporter.takeLosses().named.map((l) => `${l.reason}:${l.id}`);

test('holds exchanges up to maxQueueBytes; past it drop-newest drops the one that does not fit, counted and told', () => {
  const { backlog: b, reporter, drops } = backlog('drop-newest');
  expect(b.add(exchange('a', 60), () => 'db down')).toBe(true);
  expect(b.add(exchange('b', 40), () => 'db down')).toBe(true);
  expect(b.add(exchange('c', 1), () => 'db down')).toBe(false);
  expect({ rows: b.rows, bytes: b.bytes, overflowing: b.overflowing }).toEqual({ rows: 2, bytes: 100, overflowing: true });
  expect(reporter.counts.dropped).toBe(1);
  expect(drops).toEqual([[1, 'the queue is full (maxQueueBytes 100; db down); the newest record was dropped']]);
  expect(lostIds(reporter)).toEqual(['overflow:c']);
  expect(lostIds(reporter)).toEqual([]);
});

test('drop-oldest makes room by dropping the oldest waiting exchanges', () => {
  const { backlog: b, drops, reporter } = backlog('drop-oldest');
  b.add(exchange('a', 50), () => '');
  b.add(exchange('b', 30), () => '');
  b.add(exchange('c', 20), () => '');
  expect(b.add(exchange('d', 60), () => 'slow')).toBe(true);
  expect(b.take(10, 1000, build).records.map((r) => r.id)).toEqual(['c', 'd']);
  expect(drops).toEqual([[2, 'the queue is full (maxQueueBytes 100; slow); the 2 oldest records were dropped']]);
  expect(lostIds(reporter)).toEqual(['overflow:a', 'overflow:b']);
});

test('a batch stays counted until it is done; one given back is taken first, whole', () => {
  const { backlog: b } = backlog('drop-newest');
  for (const [id, bytes] of [
    ['a', 10],
    ['b', 10],
    ['c', 10],
  ] as const)
    b.add(exchange(id, bytes), () => '');
  const first = b.take(2, 1000, build);
  expect(first.records.map((r) => r.id)).toEqual(['a', 'b']);
  expect({ rows: b.rows, waiting: b.waiting, bytes: b.bytes }).toEqual({ rows: 3, waiting: 1, bytes: 30 });
  expect(b.giveBack(first)).toBe(2);
  expect(b.take(1, 1000, build)).toBe(first);
  b.done(first);
  expect({ rows: b.rows, bytes: b.bytes }).toEqual({ rows: 1, bytes: 10 });
  expect(b.clear().map((l) => `${l.reason}:${l.id}`)).toEqual(['close_deadline:c']);
  expect({ rows: b.rows, bytes: b.bytes }).toEqual({ rows: 0, bytes: 0 });
});

test('a batch takes at least one exchange and stops past maxBytes', () => {
  const { backlog: b } = backlog('drop-newest', 1000);
  for (const id of ['a', 'b', 'c']) b.add(exchange(id, 300), () => '');
  expect(b.take(10, 100, build).records).toHaveLength(1);
  expect(b.take(10, 500, build).records).toHaveLength(2);
});

test('room for fail-closed: none while overflowing, until a batch is done', () => {
  const { backlog: b } = backlog('fail-closed');
  b.add(exchange('a', 90), () => '');
  expect(b.hasRoomFor(10)).toBe(true);
  b.add(exchange('b', 20), () => '');
  expect(b.hasRoomFor(0)).toBe(false);
  b.done(b.take(10, 1000, build));
  expect(b.hasRoomFor(10)).toBe(true);
});

test('wait: a record past maxQueueBytes is kept, never dropped; requests waiting for room go on once a batch is done', async () => {
  const { backlog: b, drops } = backlog('wait');
  b.add(exchange('a', 80), () => '');
  expect(b.add(exchange('b', 40), () => '')).toBe(true);
  expect({ rows: b.rows, bytes: b.bytes, hasRoom: b.hasRoom }).toEqual({ rows: 2, bytes: 120, hasRoom: false });
  expect(drops).toEqual([]);
  const waiting = b.waitForRoom(10_000);
  b.done(b.take(1, 1000, build));
  await expect(waiting).resolves.toBe(true);
  b.add(exchange('c', 100), () => '');
  await expect(b.waitForRoom(20)).resolves.toBe(false);
});

test('staged batches wait in order and one write takes several of them, up to maxRows, with their write-ahead tickets', () => {
  const { backlog: b } = backlog('wait', 1000);
  for (const id of ['a', 'b', 'c', 'd', 'e']) b.add(exchange(id, 10), () => '');
  const ticket = (n: number) => ({ n }) as unknown as WriteAheadTicket;
  for (let n = 0; n < 3; n++) {
    const staged = b.takeWaiting(2, 1000, build);
    staged.tickets = [ticket(n)];
    b.staged(staged);
  }
  expect(b.takeable).toBe(true);
  const joined = b.takeReady(4, 1000)!;
  expect(joined.records.map((r) => r.id)).toEqual(['a', 'b', 'c', 'd']);
  expect(joined.tickets).toEqual([ticket(0), ticket(1)]);
  expect(joined.bytes).toBe(40);
  expect(b.rows).toBe(5);
  // A failed write comes back whole and is taken first; at close, records in the write-ahead journal are not lost.
  b.giveBack(joined);
  expect(b.takeReady(1, 1000)).toBe(joined);
  expect(b.clear()).toEqual([]);
  b.add(exchange('f', 10), () => '');
  b.staged(b.takeWaiting(1, 1000, build)); // no ticket: the journal could not be written
  expect(b.clear().map((l) => l.id)).toEqual(['f']);
});

test('a write never joins a batch held in memory only (its journal append failed) to journaled ones: each stays counted as what it is', () => {
  const { backlog: b } = backlog('wait', 1000);
  for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) b.add(exchange(id, 10), () => '');
  const journaled = [true, false, true];
  for (const inJournal of journaled) {
    const staged = b.takeWaiting(2, 1000, build);
    if (inJournal) staged.tickets = [{} as WriteAheadTicket];
    b.staged(staged);
  }
  expect(b.takeReady(6, 1000)!.records.map((r) => r.id)).toEqual(['a', 'b']);
  expect(b.journaledRows).toBe(4);
  expect(b.takeReady(6, 1000)!.records.map((r) => r.id)).toEqual(['c', 'd']);
  // At the close deadline the batch held in memory only is lost and named; the journaled ones are replayed.
  expect(b.clear().map((l) => l.id)).toEqual(['c', 'd']);
});

test('a statement names at most 1,000 lost records and counts the rest; past the limit no name is even made', () => {
  const { backlog: b, reporter } = backlog('drop-newest', 10);
  let made = 0;
  const counting = new Backlog(10, 'drop-newest', reporter, {
    ...names,
    exchange: (x, reason) => {
      made++;
      return names.exchange(x, reason);
    },
  });
  for (let i = 0; i < 1500; i++) counting.add(exchange(`x-${i}`, 100), () => '');
  expect(b.rows).toBe(0);
  const losses = reporter.takeLosses();
  expect({ named: losses.named.length, unnamed: losses.unnamed, byReason: losses.byReason }).toEqual({
    named: 1000,
    unnamed: 500,
    byReason: { overflow: 1500 },
  });
  expect(made).toBe(1000);
  expect(reporter.takeLosses()).toEqual({ byReason: {}, named: [], unnamed: 0, unreadableJournalBytes: 0 });
});
