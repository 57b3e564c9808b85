import { InferenceLogger } from '@inferlog/core';
import { DATABASE_URL, dropSchema, endPool, uniqueSchema, tempDir } from './helpers';
test('four tables of one schema, migrated at the same moment by four loggers, all start (no CREATE SCHEMA race)', async () => {
  for (let round = 0; round < 5; round++) {
    const schema = uniqueSchema('race');
    const loggers = ['a', 'b', 'c', 'd'].map(
      (table) => new InferenceLogger({ database: DATABASE_URL, schema, table, spillDir: tempDir(), onError: () => {} }),
    );
    await Promise.all(loggers.map((l) => l.ready()));
    await Promise.all(loggers.map((l) => l.close()));
    await dropSchema(schema);
  }
  await endPool();
});
