import type { Exchange } from '../capture/exchange';
import { routedPath } from '../request-path';
import { contentCoding, decodeBody, decodeParsedBody, type DecodedBody } from './body';

/** Both bodies of a captured exchange decoded, with the size and digest of each as it crossed the wire. */
export interface DecodedExchange {
  /** The full request path as routed: no scheme, host, query or fragment (percent-encoded). */
  path: string;
  /** The path where the middleware ran (the full path less any mount prefix): the route's parameters are read from it. */
  routePath: string;
  request: DecodedBody;
  response: DecodedBody;
  /**
   * The content-coding of the response bytes as captured: the `Content-Encoding` in force when the head
   * passed the middleware. `identity` where an encoder mounted before inferlog compressed them beneath it,
   * although the head sent says otherwise.
   */
  responseCoding: string;
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
  const { path, routePath } = exchangePaths(x);
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
  // The head passed the middleware (it normally does): its coding there is the coding of the bytes the tee saw.
  const responseCoding = contentCoding(x.head.encoding === undefined ? x.responseHeaders['content-encoding'] : x.head.encoding);
  const response = decodeBody(keptResponse, x.responseHeaders, x.response.truncated, maxBodyBytes, responseCoding);
  const truncated: string[] = [];
  if (request.truncated || x.requestIncomplete) truncated.push('request_body');
  if (response.truncated) truncated.push('response_body');
  return {
    path,
    routePath,
    request,
    response,
    responseCoding,
    requestBytes,
    requestSha256,
    responseBytes: x.response.bytes,
    responseSha256: x.response.digest(keptResponse),
    truncated,
  };
}

/** The full path as routed, and the path where the middleware ran; the target as sent when no path can be read from it. */
export function exchangePaths(x: Exchange): { path: string; routePath: string } {
  const path = routedPath(x.url) ?? x.url;
  return { path, routePath: x.routeUrl === x.url ? path : (routedPath(x.routeUrl) ?? path) };
}
