import { bigIntsAsText, exactParses, parsedExactly } from '../exact-json';
import type { MappedFields, Mapper } from './mapper';

/**
 * A built-in mapper whose fields hold no BigInt: integers beyond 2^53, which the exact JSON parser gives
 * as BigInt (exact-json.ts), are returned as their decimal strings, the form they are stored in (as the
 * binary tensor path gives them). Only when the bodies, or JSON the mapper parsed itself (stream events),
 * came from the exact parser is anything walked.
 */
export function withExactIntegers(mapper: Mapper): Mapper {
  return (input) => {
    const parses = exactParses();
    const fields = mapper(input);
    if (exactParses() === parses && !parsedExactly(input.request.json) && !parsedExactly(input.response.json)) return fields;
    const out: MappedFields = { ...fields };
    for (const key of Object.keys(out) as (keyof MappedFields)[]) (out as Record<string, unknown>)[key] = bigIntsAsText(out[key]);
    return out;
  };
}
