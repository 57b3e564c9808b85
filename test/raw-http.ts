// Raw HTTP/1.1 over a TCP socket, for what a client library would normalise away: request targets in
// absolute form or with a fragment, and the exact bytes of a response (header order, duplicates, 1xx, trailers).
import net from 'node:net';

/**
 * Sends `head` (the request line and header lines, without the blank line) and `body` with
 * `Connection: close`, then reads until the server closes. The client never half-closes: Node's server
 * would end the connection before an asynchronous response (a compressor's) is written.
 */
export function rawExchange(port: number, head: string, body: string | Buffer = '', timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error(`no end of the response within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    const length = Buffer.byteLength(body);
    socket.write(`${head}\r\n${length > 0 ? `Content-Length: ${length}\r\n` : ''}Connection: close\r\n\r\n`);
    socket.write(body);
  });
}

/** One HTTP/1.1 request of `method` to `target` with JSON `body`, sent as it is: the target is never normalised. */
export function rawRequest(port: number, method: string, target: string, headers: Record<string, string>, body = ''): Promise<Buffer> {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (body !== '') lines.push('Content-Type: application/json');
  return rawExchange(port, lines.join('\r\n'), body);
}

/** A response as it came off the wire: each message (1xx first) with its header lines in order and its raw body. */
export interface RawResponse {
  /** The header blocks of every message, 1xx ones first: the status line and each header line, as sent. */
  heads: string[][];
  /** The final response's status. */
  status: number;
  /** The final response's header lines as `name: value`, in order. */
  headers: string[];
  /** The final response's body bytes as sent (chunked framing and trailers included). */
  body: Buffer;
}

/** Splits what a server sent into its messages. */
export function parseRaw(raw: Buffer): RawResponse {
  const heads: string[][] = [];
  let rest = raw;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) throw new Error(`no complete response head in ${JSON.stringify(rest.toString('latin1').slice(0, 200))}`);
    const lines = rest.subarray(0, end).toString('latin1').split('\r\n');
    heads.push(lines);
    rest = rest.subarray(end + 4);
    const status = Number(lines[0]!.split(' ')[1]);
    if (status >= 200 || status === 101) return { heads, status, headers: lines.slice(1), body: rest };
  }
}

/** The value of a header of the final response (the first line of that name), or undefined. */
export function headerOf(response: RawResponse, name: string): string | undefined {
  const line = response.headers.find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(line.indexOf(':') + 1).trim();
}

/** A chunked body's payload, without its framing (trailers dropped). */
export function unchunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    const size = Number.parseInt(body.subarray(at, eol).toString('latin1'), 16);
    if (!size) return Buffer.concat(parts);
    parts.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/** The response bytes with the header lines that differ between two runs of one exchange removed: `Date`, and the names in `drop`. */
export function comparable(raw: Buffer, drop: string[] = []): string {
  const names = ['date', ...drop.map((n) => n.toLowerCase())];
  const text = raw.toString('latin1');
  const headEnd = indexOfFinalHead(text);
  const head = text
    .slice(0, headEnd)
    .split('\r\n')
    .filter((line) => !names.some((n) => line.toLowerCase().startsWith(`${n}:`)))
    .join('\r\n');
  return head + text.slice(headEnd);
}

/** The offset of the blank line that ends the final response's head (after any 1xx heads). */
function indexOfFinalHead(text: string): number {
  let at = 0;
  for (;;) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end === -1) return text.length;
    const status = Number(text.slice(at, text.indexOf('\r\n', at)).split(' ')[1]);
    if (status >= 200 || status === 101) return end;
    at = end + 4;
  }
}
