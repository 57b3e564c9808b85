import type { MapperInput } from '../mapper';

/**
 * Milliseconds from the request's arrival to the response write that carried the stream's first token
 * (the event starting at `textIndex` of the response text). Null when that write is not among the timed
 * ones, or the body was content-encoded (offsets in the text are then not offsets on the wire).
 */
export function timeToFirstToken(input: MapperInput, textIndex: number): number | null {
  const encoding = String(input.responseHeaders['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' || input.response.text === null) return null;
  const offset = Buffer.byteLength(input.response.text.slice(0, textIndex));
  const write = input.responseWrites.find((w) => offset >= w.offset && offset < w.offset + w.bytes);
  return write ? Math.round(write.ms * 1000) / 1000 : null;
}
