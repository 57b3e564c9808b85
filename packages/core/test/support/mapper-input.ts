import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MapperInput } from '../../src/protocols/mapper';
import { contentCoding, decodeBody } from '../../src/decode/body';

const FIXTURES = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'protocols');

/** A protocol fixture (test/fixtures/protocols/<dir>/<file>): parsed JSON, or text for .sse files. */
export function fixture(path: string): any {
  const text = readFileSync(join(FIXTURES, path), 'utf8');
  return path.endsWith('.json') ? JSON.parse(text) : text;
}

type Body = unknown;

function bytesOf(body: Body): Buffer {
  if (body === undefined) return Buffer.alloc(0);
  if (Buffer.isBuffer(body)) return body;
  return Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
}

/** What a mapper is given for this exchange: bodies (JSON values, text or bytes) decoded the way the flush path decodes them. */
export function mapperInput(parts: {
  request?: Body;
  response?: Body;
  status?: number | null;
  path?: string;
  params?: Record<string, string>;
  requestHeaders?: Record<string, string>;
  responseHeaders?: Record<string, string>;
  cap?: number;
}): MapperInput {
  const cap = parts.cap ?? 1024 * 1024;
  const requestHeaders = { 'content-type': 'application/json', ...parts.requestHeaders };
  const responseHeaders: Record<string, string> = { 'content-type': 'application/json', ...parts.responseHeaders };
  const request = bytesOf(parts.request);
  const response = bytesOf(parts.response);
  return {
    request: decodeBody(request.subarray(0, cap), requestHeaders, request.length > cap, cap),
    response: decodeBody(response.subarray(0, cap), responseHeaders, response.length > cap, cap),
    status: parts.status === undefined ? 200 : parts.status,
    method: 'POST',
    path: parts.path ?? '/',
    params: parts.params ?? {},
    requestHeaders,
    responseHeaders,
    responseCoding: contentCoding(responseHeaders['content-encoding']),
    responseWrites: [],
    maxBodyBytes: cap,
  };
}
