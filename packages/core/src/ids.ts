import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 16 * 1024;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A UUIDv7 (RFC 9562): 48-bit Unix milliseconds then random bits, so ids sort by time and need no coordination. */
export function uuidv7(ms: number = Date.now()): string {
  if (poolOffset + 10 > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const r = poolOffset;
  poolOffset += 10;
  const hi = Math.floor(ms / 0x1000000);
  const lo = ms % 0x1000000;
  return (
    HEX[(hi >>> 16) & 0xff]! +
    HEX[(hi >>> 8) & 0xff]! +
    HEX[hi & 0xff]! +
    HEX[(lo >>> 16) & 0xff]! +
    '-' +
    HEX[(lo >>> 8) & 0xff]! +
    HEX[lo & 0xff]! +
    '-' +
    HEX[0x70 | (pool[r]! & 0x0f)]! +
    HEX[pool[r + 1]!]! +
    '-' +
    HEX[0x80 | (pool[r + 2]! & 0x3f)]! +
    HEX[pool[r + 3]!]! +
    '-' +
    HEX[pool[r + 4]!]! +
    HEX[pool[r + 5]!]! +
    HEX[pool[r + 6]!]! +
    HEX[pool[r + 7]!]! +
    HEX[pool[r + 8]!]! +
    HEX[pool[r + 9]!]!
  );
}

const SAFE_REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

/** The caller's request id when it is 1..200 visible ASCII characters (safe to echo in a header), else undefined. */
export function acceptRequestId(value: string | string[] | undefined): string | undefined {
  const id = Array.isArray(value) ? value[0] : value;
  return id !== undefined && SAFE_REQUEST_ID.test(id) ? id : undefined;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;

/** Trace and span id of a W3C `traceparent` header; invalid or all-zero ids give nulls. */
export function parseTraceparent(value: string | string[] | undefined): { traceId: string | null; spanId: string | null } {
  const header = Array.isArray(value) ? value[0] : value;
  const found = header ? TRACEPARENT.exec(header.trim().toLowerCase()) : null;
  if (!found || found[1] === 'ff' || /^0+$/.test(found[2]!) || /^0+$/.test(found[3]!)) return { traceId: null, spanId: null };
  return { traceId: found[2]!, spanId: found[3]! };
}
