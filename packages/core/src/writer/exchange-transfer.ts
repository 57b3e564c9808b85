import { BodyCollector, type BodyTransfer } from '../capture/body-collector';
import { Exchange } from '../capture/exchange';
import type { ResolvedOptions } from '../options';
import type { CompiledRoute } from '../routes';

/** One finished exchange as it crosses to the writer thread: its fields, and where its bodies lie in the batch's buffer. */
interface ExchangeTransfer {
  route: number;
  fields: Omit<Exchange, 'route' | 'request' | 'response' | 'annotate' | 'finish' | 'heldBytes' | 'inFlight' | 'startMark' | 'annotations'>;
  /** The annotations as JSON text made here, as the record stores them (`toJSON` kept, BigInt as its digits): a clone would drop prototypes. */
  annotations: string | null;
  request: BodyTransfer & { at: number; length: number };
  response: BodyTransfer & { at: number; length: number };
  /** Where the parsed body lies in the batch's buffer when it is a Buffer (`express.raw`): it is a Buffer again there. */
  parsedBytes: { at: number; length: number } | null;
}

/** Finished exchanges handed to the writer thread in one message: the bodies of all of them in one buffer, transferred, not copied. */
export interface ExchangeBatch {
  exchanges: ExchangeTransfer[];
  bodies: ArrayBuffer;
}

/** Packs finished exchanges for `postMessage`; `routeIndex` names each one's route by its place among the selector's routes. */
export function packExchanges(list: readonly Exchange<CompiledRoute>[], routeIndex: ReadonlyMap<CompiledRoute, number>): ExchangeBatch {
  const kept = list.map(
    (x) => [x.request.content(), x.response.content(), Buffer.isBuffer(x.parsedRequestBody) ? x.parsedRequestBody : null] as const,
  );
  let total = 0;
  for (const [request, response, parsed] of kept) total += request.byteLength + response.byteLength + (parsed?.byteLength ?? 0);
  const bodies = new ArrayBuffer(total);
  const into = new Uint8Array(bodies);
  let at = 0;
  const place = (bytes: Buffer) => {
    into.set(bytes, at);
    at += bytes.byteLength;
    return { at: at - bytes.byteLength, length: bytes.byteLength };
  };
  const exchanges = list.map((x, i): ExchangeTransfer => {
    const [request, response, parsed] = kept[i]!;
    return {
      route: routeIndex.get(x.route) ?? -1,
      fields: {
        id: x.id,
        requestId: x.requestId,
        startedAt: x.startedAt,
        method: x.method,
        url: x.url,
        routeUrl: x.routeUrl,
        requestHeaders: x.requestHeaders,
        // A Buffer crosses in the batch's buffer (a clone of it would carry its whole backing pool).
        parsedRequestBody: parsed ? undefined : x.parsedRequestBody,
        thrown: x.thrown,
        requestIncomplete: x.requestIncomplete,
        frameworkRoute: x.frameworkRoute,
        latencyMs: x.latencyMs,
        status: x.status,
        aborted: x.aborted,
        responseHeaders: x.responseHeaders,
        head: x.head,
      },
      request: { ...x.request.transfer(x.startMark), ...place(request) },
      response: { ...x.response.transfer(x.startMark), ...place(response) },
      parsedBytes: parsed ? place(parsed) : null,
      annotations: annotationsJson(x.annotations),
    };
  });
  return { exchanges, bodies };
}

/** Annotations as JSON text: what the record would store of them (an unserialisable value as its text). */
function annotationsJson(annotations: Record<string, unknown> | null): string | null {
  if (annotations === null) return null;
  try {
    return JSON.stringify(annotations, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? null;
  } catch {
    return JSON.stringify({ inferlog: 'the annotations could not be serialised as JSON (a cycle?)' });
  }
}

/**
 * The exchanges of a batch as the writer thread's own `Exchange` objects (their times relative to a
 * start mark of 0). A route it cannot name (never: both threads compile the same routes) takes the first.
 */
export function unpackExchanges(batch: ExchangeBatch, options: ResolvedOptions): Exchange<CompiledRoute>[] {
  const routes = options.selector.routes;
  const body = (b: ExchangeTransfer['request']) =>
    BodyCollector.received(Buffer.from(batch.bodies, b.at, b.length), b, options.maxBodyBytes, options.bodyDigest);
  return batch.exchanges.map((x) =>
    Object.assign(Object.create(Exchange.prototype) as Exchange<CompiledRoute>, x.fields, {
      route: routes[x.route] ?? routes[0]!,
      startMark: 0,
      inFlight: false,
      request: body(x.request),
      response: body(x.response),
      annotations: x.annotations === null ? null : (JSON.parse(x.annotations) as Record<string, unknown>),
      ...(x.parsedBytes ? { parsedRequestBody: Buffer.from(batch.bodies, x.parsedBytes.at, x.parsedBytes.length) } : {}),
    }),
  );
}
