// The migrations stay SQL; this holds them to the one declaration of the columns (core/src/columns.ts),
// so that the tables a migration makes and what the code writes, hashes and exports cannot drift.
import { logTableNames, migrate } from '@inferlog/core/audit';
import { columnNames, EVENT_TABLE, isNullable, RECORD_TABLE, sqlType, type SqlType, type Table } from '../packages/core/src/columns';
import { db, dropSchema, endPool, uniqueSchema } from './helpers';

const schema = uniqueSchema('columns');
const table = 'inference_log';

/** information_schema's udt_name of each declared type. */
const UDT_NAMES: { readonly [T in SqlType]: string } = {
  uuid: 'uuid',
  timestamptz: 'timestamptz',
  'double precision': 'float8',
  integer: 'int4',
  bigint: 'int8',
  boolean: 'bool',
  text: 'text',
  'text[]': '_text',
  jsonb: 'jsonb',
};

interface ColumnFacts {
  name: string;
  udt: string;
  nullable: boolean;
}

const declared = (columns: Table): ColumnFacts[] =>
  columnNames(columns)
    .map((name) => ({ name, udt: UDT_NAMES[sqlType(columns[name])], nullable: isNullable(columns[name]) }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));

const migrated = async (relation: string): Promise<ColumnFacts[]> =>
  (
    await db.any(
      'SELECT column_name AS name, udt_name AS udt, is_nullable = \'YES\' AS nullable FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY column_name COLLATE "C"',
      [schema, relation],
    )
  ).map(({ name, udt, nullable }) => ({ name, udt, nullable }));

beforeAll(async () => {
  await migrate(db as never, schema, table);
});

afterAll(async () => {
  await dropSchema(schema);
  await endPool();
});

test('the migrated log table has exactly the declared columns, types and NOT NULL constraints', async () => {
  expect(await migrated(table)).toEqual(declared(RECORD_TABLE));
});

test('the migrated event table has exactly the declared columns, types and NOT NULL constraints', async () => {
  expect(await migrated(logTableNames(schema, table).events)).toEqual(declared(EVENT_TABLE));
});
