// The HTTP calls the planted-secret cases make: plain requests, a stream the client leaves midway, and a
// request body the client stops sending.
import http from 'node:http';

export interface Answer {
  status: number;
  body: string;
}

/** POSTs `body` and reads the whole answer. */
export async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, body: await res.text() };
}

/** POSTs JSON. */
export function postJson(url: string, value: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return post(url, JSON.stringify(value), headers);
}

/** POSTs `body`, reads the event stream and goes away once `enough(received)` holds. */
export function leaveStream(
  url: string,
  body: string,
  headers: Record<string, string>,
  enough: (received: string) => boolean,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let received = '';
      res.on('data', (chunk: Buffer) => {
        received += chunk.toString('utf8');
        if (enough(received)) {
          req.destroy();
          resolve();
        }
      });
      res.on('end', () => reject(new Error('the stream ended before the client meant to leave it')));
    });
    req.on('error', () => resolve());
    req.end(body);
  });
}

/** Announces `declaredBytes`, sends only `part`, and goes away. */
export function stopSending(url: string, part: Buffer, declaredBytes: number, contentType: string): Promise<void> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': contentType, 'content-length': String(declaredBytes) } });
    req.on('error', () => resolve());
    req.write(part, () => setTimeout(() => req.destroy(), 100));
    req.on('close', () => resolve());
  });
}
