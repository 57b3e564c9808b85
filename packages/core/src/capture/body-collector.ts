import * as crypto from 'node:crypto';
import { createHash, type Hash } from 'node:crypto';
import { performance } from 'node:perf_hooks';

type Chunk = Buffer | Uint8Array | string;

/** Writes whose time is kept: enough to find a stream's first token, bounded for long streams. */
const TIMED_WRITES = 64;

// crypto.hash (Node >= 20.12) hashes in one call, without a Hash object per body.
const oneShotHash = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'hex') => string }).hash;
const sha256Hex = oneShotHash
  ? (data: Uint8Array) => oneShotHash('sha256', data, 'hex')
  : (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/**
 * Keeps references to the chunks of one body up to `cap` bytes. Past the cap it keeps counting and
 * hashes incrementally, so size and SHA-256 still describe the whole body while memory stays bounded.
 */
export class BodyCollector {
  private chunks: Chunk[] = [];
  /** Bytes seen in total. */
  bytes = 0;
  /** Bytes kept (at most `cap`). */
  private kept = 0;
  private hash: Hash | null = null;
  private sealed = false;
  /** For timed bodies: [byte offset, size, performance.now()] of the first writes, flattened. */
  readonly writeTimes: number[] | null;

  constructor(
    private readonly cap: number,
    timed = false,
  ) {
    this.writeTimes = timed ? [] : null;
  }

  add(chunk: unknown, encoding?: BufferEncoding): void {
    if (this.sealed) return;
    let data: Chunk;
    if (typeof chunk === 'string') {
      data = encoding && encoding !== 'utf8' && encoding !== 'utf-8' ? Buffer.from(chunk, encoding) : chunk;
    } else if (chunk instanceof Uint8Array) {
      data = chunk;
    } else {
      return;
    }
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    if (size === 0) return;
    if (this.writeTimes && this.writeTimes.length < 3 * TIMED_WRITES) this.writeTimes.push(this.bytes, size, performance.now());
    this.bytes += size;
    if (this.hash) {
      this.hash.update(data);
      return;
    }
    this.chunks.push(data);
    this.kept += size;
    if (this.kept > this.cap) {
      this.hash = createHash('sha256');
      for (const c of this.chunks) this.hash.update(c);
      this.trimToCap();
    }
  }

  /** Stops collecting: writes after the exchange finished are not part of the record. */
  seal(): void {
    this.sealed = true;
  }

  get truncated(): boolean {
    return this.hash !== null;
  }

  /** Bytes held in memory, for the queue's byte bound. */
  get heldBytes(): number {
    return this.kept;
  }

  /** The kept bytes (at most `cap`) as one Buffer. */
  content(): Buffer {
    if (this.chunks.length === 1 && Buffer.isBuffer(this.chunks[0])) return this.chunks[0];
    return Buffer.concat(this.chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
  }

  /** Hex SHA-256 of everything seen (kept or not); null for an empty body. */
  sha256(kept?: Buffer): string | null {
    if (this.hash) return this.hash.copy().digest('hex');
    if (this.bytes === 0) return null;
    return sha256Hex(kept ?? this.content());
  }

  private trimToCap(): void {
    let over = this.kept - this.cap;
    while (over > 0 && this.chunks.length > 0) {
      const last = this.chunks[this.chunks.length - 1];
      const buf = typeof last === 'string' ? Buffer.from(last) : last;
      if (buf.byteLength <= over) {
        this.chunks.pop();
        over -= buf.byteLength;
      } else {
        this.chunks[this.chunks.length - 1] = buf.subarray(0, buf.byteLength - over);
        over = 0;
      }
    }
    this.kept = this.cap;
  }
}
