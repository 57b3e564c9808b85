// Values as stored, for reading rows whose hash is recomputed or exported. The driver's own parsers
// lose what the hash must cover: jsonb through JSON.parse (digits past double precision, `1.0` vs `1`)
// and timestamptz into a Date (microseconds). These keep them: jsonb parsed exactly, timestamptz as its
// canonical text. (bigint is the driver's text already; the canonical form reads it exactly.)
import { parseStoredJson } from '../chain/stored-json';
import { timestampText } from '../chain/stored-time';
import { pgp } from '../sink/pgp';

const TIMESTAMPTZ = 1184;
const JSONB = 3802;

type TypeParser = (text: string) => unknown;

/** Per-query type parsers (pg's `types` option): the exact readings above, the driver's for every other type. */
export const exactTypes: typeof pgp.pg.types = {
  ...pgp.pg.types,
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === JSONB) return parseStoredJson;
    if (oid === TIMESTAMPTZ) return timestampText;
    return pgp.pg.types.getTypeParser(oid, format as 'text') as TypeParser;
  }) as typeof pgp.pg.types.getTypeParser,
};
