import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';

/**
 * What a chain's writer signs each time it moves the head: the UTF-8 bytes of these four lines (no
 * trailing newline). Anyone can check a head with any Ed25519 library (see docs/operating.md, "Chain
 * ownership").
 */
export function headMessage(chainId: string, seq: number, hash: string | null): Buffer {
  return Buffer.from(`inferlog-chain-head-v1\n${chainId}\n${seq}\n${hash ?? ''}`, 'utf8');
}

/** sha256 of the token's UTF-8 bytes, lower-case hex: what the chain table keeps instead of the token. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A head move as the sink stores it: the new head, its signature, and the token that lets the database accept it. */
export interface SignedHead {
  chain_id: string;
  seq: number;
  hash: string | null;
  /** Ed25519 signature of `headMessage`, lower-case hex. */
  signature: string;
  /** The chain's secret token (sent as a bind parameter, checked against `token_hash`, never stored). */
  token: string;
}

/**
 * A chain's key pair and token, made when the chain is, held in memory only (never journaled, logged
 * or reported): the public half and the token's hash are registered with the chain, the private half
 * signs every head the writer stores, and the token proves to the database that a head move comes from
 * the writer that registered the chain.
 */
export class ChainKey {
  readonly publicKey: string;
  readonly tokenHash: string;
  readonly #privateKey: KeyObject;
  readonly #token: string;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    this.#privateKey = privateKey;
    this.publicKey = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex');
    this.#token = randomBytes(32).toString('hex');
    this.tokenHash = tokenHash(this.#token);
  }

  /** The head move for this chain's new head, signed. */
  signHead(chainId: string, seq: number, hash: string | null): SignedHead {
    return { chain_id: chainId, seq, hash, signature: this.sign(headMessage(chainId, seq, hash)), token: this.#token };
  }

  /** The Ed25519 signature of `message` by the chain's key, lower-case hex. */
  sign(message: Buffer): string {
    return sign(null, message, this.#privateKey).toString('hex');
  }

  /** Never the private key or the token, in logs or JSON. */
  toJSON(): { publicKey: string } {
    return { publicKey: this.publicKey };
  }
}

const HEX_KEY = /^[0-9a-f]{64}$/;
const HEX_SIGNATURE = /^[0-9a-f]{128}$/;

/** Whether `signature` (hex) is the Ed25519 signature of the head by the registered `publicKey` (raw 32 bytes, hex). */
export function headSignatureValid(
  publicKey: string,
  chainId: string,
  seq: number,
  hash: string | null,
  signature: string | null,
): boolean {
  return signatureValid(publicKey, headMessage(chainId, seq, hash), signature);
}

/** Whether `signature` (hex) is the Ed25519 signature of `message` by `publicKey` (raw 32 bytes, hex). */
export function signatureValid(publicKey: string | null, message: Buffer, signature: unknown): boolean {
  if (typeof signature !== 'string' || !HEX_SIGNATURE.test(signature) || !publicKey || !HEX_KEY.test(publicKey)) return false;
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey, 'hex').toString('base64url') },
    format: 'jwk',
  });
  return verify(null, message, key, Buffer.from(signature, 'hex'));
}
