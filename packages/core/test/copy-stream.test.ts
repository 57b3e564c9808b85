// COPY text is sent a slice at a time as the connection drains (sink/copy-stream.ts). A failed COPY's
// stream has no connection any more: pg-copy-streams emits 'error' without destroying the stream, and a
// write after that throws out of the socket's 'drain' event, where nothing can catch it.
import { Writable } from 'node:stream';
import { COPY_SLICE_ROWS, sendCopy } from '../src/sink/copy-stream';
import { toCopyText } from '../src/sink/copy-text';
import { RECORD_COLUMNS, type InferenceRecord } from '../src/record/record';

function record(i: number, startedAt = new Date(1_700_000_000_000 + i)): InferenceRecord {
  return {
    ...Object.fromEntries(RECORD_COLUMNS.map((column) => [column, null])),
    ...{ id: `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`, started_at: startedAt, ended_at: startedAt },
    ...{ latency_ms: 1, request_id: `r-${i}`, method: 'POST', path: '/x', aborted: false, protocol: 'raw' },
    ...{ request_bytes: 0, response_bytes: 0, truncated: [], redactions: [], request_body: 'x'.repeat(1024) },
  } as unknown as InferenceRecord;
}

/** A COPY stream as pg-copy-streams makes one: each write held until the socket drains, and after the server's error, no connection. */
class FakeCopy extends Writable {
  readonly chunks: string[] = [];
  held: (() => void) | null = null;
  connection: object | null = {};
  writesWithoutConnection = 0;

  constructor() {
    super({ highWaterMark: 16 * 1024, decodeStrings: false });
  }

  override _write(chunk: string, _encoding: BufferEncoding, done: () => void): void {
    if (this.connection === null) {
      this.writesWithoutConnection++;
      throw new TypeError("Cannot read properties of null (reading 'stream')");
    }
    this.chunks.push(chunk);
    this.held = done;
  }

  /** The socket drained: the write in flight is done. */
  drain(): void {
    const done = this.held;
    this.held = null;
    done?.();
  }

  /** What pg does with the server's ErrorResponse. */
  serverError(err: Error): void {
    this.emit('error', err);
    this.connection = null;
  }
}

const ticks = () => new Promise((resolve) => setImmediate(resolve));

test('every slice is sent in order, each once the one before was taken, and the COPY resolves when it finishes', async () => {
  const records = Array.from({ length: 3 * COPY_SLICE_ROWS + 7 }, (_, i) => record(i));
  const stream = new FakeCopy();
  const sent = sendCopy(stream, records);
  for (let i = 0; i < 4; i++) {
    expect(stream.chunks).toHaveLength(i + 1); // the next slice waits for this one
    stream.drain();
    await ticks();
  }
  await expect(sent).resolves.toBeUndefined();
  expect(stream.chunks.join('')).toBe(toCopyText(records));
});

test("the server's error in the middle of the COPY rejects it, and nothing is written on the stream after it", async () => {
  const records = Array.from({ length: 5 * COPY_SLICE_ROWS }, (_, i) => record(i));
  const stream = new FakeCopy();
  const sent = sendCopy(stream, records);
  stream.drain();
  await ticks();
  expect(stream.chunks).toHaveLength(2);
  const refused = new Error('invalid input syntax for type uuid');
  const outcome = expect(sent).rejects.toBe(refused);
  stream.serverError(refused);
  stream.drain(); // the socket drains all the same (the server reads and drops the rest)
  await ticks();
  await outcome;
  expect(stream.writesWithoutConnection).toBe(0);
  expect(stream.chunks).toHaveLength(2);
});

test('a slice that cannot be made rejects the COPY instead of throwing out of the drain event', async () => {
  const records = Array.from({ length: 2 * COPY_SLICE_ROWS }, (_, i) => record(i));
  records[COPY_SLICE_ROWS + 3] = record(COPY_SLICE_ROWS + 3, new Date(Number.NaN)); // toISOString throws
  const stream = new FakeCopy();
  const sent = sendCopy(stream, records);
  stream.drain(); // the second slice is made in the 'drain' event
  await expect(sent).rejects.toThrow(RangeError);
  expect(stream.chunks).toHaveLength(1);
});
