import { InferlogError } from '../errors';
import { EventConflictError, type OversightEvent, type StoredEvent } from './event';

/** Options of the adapters' `inferenceEvents()` route handlers. */
export interface EventRouteOptions<Req> {
  /**
   * Who records the event, from the authenticated request (e.g. `(req) => req.user.id`). When given, it
   * alone decides the actor: any `actor` in the body is ignored, so a caller cannot speak for someone
   * else, and a request it finds no actor for (returns nothing, or throws) is refused with 403.
   * Default: the body's `actor`.
   */
  actor?: (req: Req) => string | undefined;
}

/** What the route answers: 201 with the stored event, 400 invalid, 403 no actor, 409 id taken by another event, 503 not stored now. */
export interface EventReply {
  status: number;
  body: StoredEvent | { error: string };
}

/** The actor the route's `actor` option gives for a request: undefined when it gives none or throws. */
export function routeActor<Req>(options: EventRouteOptions<Req>, req: Req): string | undefined {
  try {
    const actor = options.actor!(req);
    return typeof actor === 'string' && actor !== '' ? actor : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The framework-independent part of the event routes: body in, stored event (or error) out. `actor`
 * is what the route's `actor` option gave (`{ value }`), or undefined when the route has no such option.
 */
export async function recordEvent(
  store: (subject: string, event: OversightEvent) => Promise<StoredEvent>,
  subject: unknown,
  body: unknown,
  actor: { value: string | undefined } | undefined,
): Promise<EventReply> {
  if (typeof subject !== 'string' || subject === '')
    return { status: 400, body: { error: 'the route has no :id parameter naming the inference (its id or request id)' } };
  if (actor && actor.value === undefined) {
    return {
      status: 403,
      body: {
        error:
          'inferlog: the event route could not tell who is recording this event (its actor option gave no actor for the request): nothing was stored',
      },
    };
  }
  const event = typeof body === 'object' && body !== null && !Array.isArray(body) ? { ...(body as Record<string, unknown>) } : body;
  if (actor && typeof event === 'object' && event !== null) (event as Record<string, unknown>).actor = actor.value;
  try {
    return { status: 201, body: await store(subject, event as OversightEvent) };
  } catch (err) {
    if (err instanceof EventConflictError) return { status: 409, body: { error: err.message } };
    const invalid = err instanceof InferlogError && /invalid oversight event/.test(err.message);
    return { status: invalid ? 400 : 503, body: { error: (err as Error).message } };
  }
}
