import type { Exchange } from '../capture/exchange';
import { decodeBody, decodeParsedBody, type DecodedBody } from './body';

/** Both bodies of a captured exchange decoded, with the size and digest of each as it crossed the wire. */
export interface DecodedExchange {
  /** The request path, without its query. */
  path: string;
  request: DecodedBody;
  response: DecodedBody;
  requestBytes: number;
  /** Null when a body parser consumed the request before inferlog saw its bytes. */
  requestSha256: string | null;
  responseBytes: number;
  responseSha256: string | null;
  /** The bodies cut at the size cap (or, for the request, cut short by the client): `request_body`, `response_body`. */
  truncated: string[];
}

function contentLength(headers: Record<string, unknown>): number {
  const value = Number(headers['content-length']);
  return Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

/** Decodes what was captured of both bodies (charset, content encoding, JSON). Runs in the flush path. */
export function decodeExchange(x: Exchange, maxBodyBytes: number): DecodedExchange {
  const q = x.url.indexOf('?');
  const path = q === -1 ? x.url : x.url.slice(0, q);
  let request: DecodedBody;
  let requestBytes: number;
  let requestSha256: string | null;
  if (x.parsedRequestBody !== undefined) {
    // A body parser ran before inferlog: the original bytes were never seen, so there is no digest of them.
    request = decodeParsedBody(x.parsedRequestBody, x.requestHeaders, maxBodyBytes);
    requestBytes = contentLength(x.requestHeaders);
    requestSha256 = null;
  } else {
    const kept = x.request.content();
    request = decodeBody(kept, x.requestHeaders, x.request.truncated, maxBodyBytes);
    requestBytes = x.request.bytes;
    requestSha256 = x.request.digest(kept);
  }
  const keptResponse = x.response.content();
  const response = decodeBody(keptResponse, x.responseHeaders, x.response.truncated, maxBodyBytes);
  const truncated: string[] = [];
  if (request.truncated || x.requestIncomplete) truncated.push('request_body');
  if (response.truncated) truncated.push('response_body');
  return {
    path,
    request,
    response,
    requestBytes,
    requestSha256,
    responseBytes: x.response.bytes,
    responseSha256: x.response.digest(keptResponse),
    truncated,
  };
}
