import type { MapperInput } from '../mapper';

/**
 * Milliseconds from the request's arrival to the response write that carried the stream's first token
 * (the event starting at `textIndex` of the response text). Null when that write is not among the timed
 * ones, or the captured body was content-encoded or not UTF-8 (offsets in the text are then not offsets of the writes).
 */
export function timeToFirstToken(input: MapperInput, textIndex: number): number | null {
  const encoding = input.responseCoding;
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(String(input.responseHeaders['content-type'] ?? ''))?.[1]?.toLowerCase();
  // Text indexes are UTF-8 byte offsets only for UTF-8 text that was sent as it is.
  if (encoding !== 'identity' || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') || input.response.text === null)
    return null;
  const offset = Buffer.byteLength(input.response.text.slice(0, textIndex));
  const write = input.responseWrites.find((w) => offset >= w.offset && offset < w.offset + w.bytes);
  return write ? Math.round(write.ms * 1000) / 1000 : null;
}
