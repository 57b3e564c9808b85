import * as crypto from 'node:crypto';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { performance } from 'node:perf_hooks';

type Chunk = Buffer | Uint8Array | string;

/** How a body's digest is made: SHA-256, HMAC-SHA-256 with a key (stored as `hmac:` + hex), or none. */
export type DigestMode = { kind: 'sha256' } | { kind: 'hmac'; key: Buffer } | { kind: 'none' };
const SHA256: DigestMode = { kind: 'sha256' };

/** A body's counts as they cross to a writer thread (`transfer`, `received`). */
export interface BodyTransfer {
  bytes: number;
  cut: boolean;
  /** Past the cap only: the digest of everything seen. */
  digest: string | null | undefined;
  writeTimes: number[] | null;
}

/** Writes whose time is kept: enough to find a stream's first token, bounded for long streams. */
const TIMED_WRITES = 64;

// crypto.hash (Node >= 20.12) hashes in one call, without a Hash object per body.
const oneShotHash = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'hex') => string }).hash;
const sha256Hex = oneShotHash
  ? (data: Uint8Array) => oneShotHash('sha256', data, 'hex')
  : (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/**
 * Keeps references to the chunks of one body up to `cap` bytes. Past the cap it keeps counting and
 * hashes incrementally, so size and digest still describe the whole body while memory stays bounded.
 */
export class BodyCollector {
  private chunks: Chunk[] = [];
  /** Bytes seen in total. */
  bytes = 0;
  /** Bytes kept (at most `cap`). */
  private kept = 0;
  /** Past the cap: the incremental digest of everything seen (null when digests are off). */
  private hash: Hash | Hmac | null = null;
  private cut = false;
  private digestValue: string | null | undefined = undefined;
  private sealed = false;
  /** For timed bodies: [byte offset, size, performance.now()] of the first writes, flattened (made at the first write). */
  writeTimes: number[] | null = null;

  constructor(
    private readonly cap: number,
    private readonly timed = false,
    private readonly digestMode: DigestMode = SHA256,
  ) {}

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
    if (this.timed) {
      this.writeTimes ??= [];
      if (this.writeTimes.length < 3 * TIMED_WRITES) this.writeTimes.push(this.bytes, size, performance.now());
    }
    this.bytes += size;
    if (this.cut) {
      this.hash?.update(data);
      return;
    }
    this.chunks.push(data);
    this.kept += size;
    if (this.kept > this.cap) {
      this.cut = true;
      this.hash = this.newHash();
      if (this.hash) for (const c of this.chunks) this.hash.update(c);
      this.trimToCap();
    }
  }

  /** Forgets what was collected: a body the app wrote that Node never sent (HEAD, 204, 304). */
  discard(): void {
    this.chunks = [];
    this.bytes = 0;
    this.kept = 0;
    this.hash = null;
    this.cut = false;
    this.writeTimes = null;
  }

  /** Stops collecting: writes after the exchange finished are not part of the record. */
  seal(): void {
    this.sealed = true;
  }

  get truncated(): boolean {
    return this.cut;
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

  /**
   * Digest of everything seen (kept or not): hex SHA-256, or `hmac:` + hex HMAC-SHA-256; null for an
   * empty body or when digests are off. Computed once, after the body is sealed.
   */
  digest(kept?: Buffer): string | null {
    if (this.digestValue !== undefined) return this.digestValue;
    const mode = this.digestMode;
    if (mode.kind === 'none' || this.bytes === 0) this.digestValue = null;
    else if (this.hash) this.digestValue = (mode.kind === 'hmac' ? 'hmac:' : '') + this.hash.digest('hex');
    else if (mode.kind === 'hmac')
      this.digestValue = `hmac:${createHmac('sha256', mode.key)
        .update(kept ?? this.content())
        .digest('hex')}`;
    else this.digestValue = sha256Hex(kept ?? this.content());
    return this.digestValue;
  }

  /**
   * What a writer thread needs of this body besides its kept bytes: the counts, the write times relative
   * to `origin` (the thread's clock starts elsewhere) and, past the cap, the digest of everything seen,
   * which only this side can finish.
   */
  transfer(origin: number): BodyTransfer {
    const times = this.writeTimes?.map((value, i) => (i % 3 === 2 ? value - origin : value)) ?? null;
    return { bytes: this.bytes, cut: this.cut, digest: this.cut ? this.digest() : undefined, writeTimes: times };
  }

  /** A sealed body as a writer thread receives it: `kept` and what `transfer` said of it. */
  static received(kept: Buffer, body: BodyTransfer, cap: number, digestMode: DigestMode): BodyCollector {
    const received = new BodyCollector(cap, false, digestMode);
    if (kept.byteLength > 0) received.chunks.push(kept);
    received.kept = kept.byteLength;
    received.bytes = body.bytes;
    received.cut = body.cut;
    if (body.digest !== undefined) received.digestValue = body.digest;
    received.writeTimes = body.writeTimes;
    received.sealed = true;
    return received;
  }

  private newHash(): Hash | Hmac | null {
    const mode = this.digestMode;
    return mode.kind === 'none' ? null : mode.kind === 'hmac' ? createHmac('sha256', mode.key) : createHash('sha256');
  }

  private trimToCap(): void {
    let over = this.kept - this.cap;
    while (over > 0 && this.chunks.length > 0) {
      const last = this.chunks[this.chunks.length - 1]!;
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
