import { jsonTextsOf } from '../chain/canonical';
import { columnNames, sqlType, type Table } from '../columns';
import { toJsonb, toText } from '../record/sanitize';
import { pgp } from './pgp';

export type InsertColumns = InstanceType<typeof pgp.helpers.ColumnSet>;

/** Strings (also inside text[]) without U+0000, which PostgreSQL refuses. */
function textValue(value: unknown): unknown {
  if (typeof value === 'string') return toText(value);
  return Array.isArray(value) ? value.map((v) => (typeof v === 'string' ? toText(v) : v)) : value;
}

/** The columns of an INSERT into `schema.name`, a table declared as `table`. */
export function insertColumns(table: Table, schema: string, name: string): InsertColumns {
  return new pgp.helpers.ColumnSet(
    columnNames(table).map((column) => {
      const type = sqlType(table[column]!);
      // A sealed row's JSON text is the one its hash was made of: written as it is.
      if (type === 'jsonb')
        return {
          name: column,
          cast: 'jsonb',
          init: (c: { value: unknown; source: object }) => jsonTextsOf(c.source)?.[column] ?? toJsonb(c.value),
        };
      if (type === 'text[]') return { name: column, cast: 'text[]', init: (c: { value: unknown }) => textValue(c.value) };
      return { name: column, init: (c: { value: unknown }) => textValue(c.value) };
    }),
    { table: { schema, table: name } },
  );
}
