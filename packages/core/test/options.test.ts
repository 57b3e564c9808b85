import { InferlogConfigError } from '../src/errors';
import { resolveOptions } from '../src/options';

const db = { database: 'postgres://localhost/x' };

describe('resolveOptions', () => {
  test('defaults', () => {
    const o = resolveOptions(db);
    expect(o).toMatchObject({
      schema: 'inferlog',
      table: 'inference_log',
      migrate: true,
      maxBodyBytes: 1024 * 1024,
      requestIdHeader: 'x-request-id',
      batch: { maxRows: 2000, maxBytes: 4 * 1024 * 1024, flushIntervalMs: 50 },
      maxQueueBytes: 64 * 1024 * 1024,
      partitionsAhead: 2,
    });
    expect(o.requestHeaders.has('traceparent')).toBe(true);
    expect(o).toMatchObject({
      overflow: 'wait',
      overflowWaitMs: 30_000,
      databaseTimeoutMs: 10_000,
      spillAfterMs: 1000,
      maxSpillBytes: 1024 * 1024 * 1024,
    });
    expect(o.spillDir).toMatch(/\.inferlog\/spill$/);
    expect(resolveOptions({ ...db, spillDir: false }).spillDir).toBeNull();
    // The write-ahead journal is on wherever there is a spill directory, synced every second.
    expect(o.writeAheadSyncMs).toBe(1000);
    expect(o.statementIntervalMs).toBe(60_000);
    expect(resolveOptions({ ...db, writeAheadSyncMs: 0 }).writeAheadSyncMs).toBe(0);
    expect(resolveOptions({ ...db, writeAhead: false }).writeAheadSyncMs).toBeNull();
    expect(resolveOptions({ ...db, spillDir: false }).writeAheadSyncMs).toBeNull();
  });

  test.each([
    [{ bogus: 1 }, /unknown option "bogus"/],
    [{ batch: { maxRow: 5 } }, /unknown option "batch.maxRow"/],
    [{ headers: { requests: [] } }, /unknown option "headers.requests"/],
    [{ routes: [{ path: '/x', method: ['GET'] }] }, /unknown option "routes\[0\].method"/],
    [{ sample: 2 }, /"sample" must be a number from 0 to 1/],
    [{ sample: '0.5' }, /"sample" must be a number from 0 to 1/],
    [{ batch: { maxRows: 0 } }, /"batch.maxRows" must be a whole number from 1/],
    [{ maxBodyBytes: 1.5 }, /"maxBodyBytes" must be a whole number/],
    [{ schema: 'bad-name' }, /"schema" must be a plain SQL identifier/],
    [{ table: 'x; drop table y' }, /"table" must be a plain SQL identifier/],
    [{ routes: '/x' }, /"routes" must be an array/],
    [{ routes: ['no-slash'] }, /"routes\[0\]": route pattern "no-slash" must start with "\/"/],
    [{ routes: [{ path: '/x', protocol: 'grpc' }] }, /"routes\[0\].protocol" must be one of/],
    [{ routes: [42] }, /"routes\[0\]" must be a pattern string/],
    [{ headers: { request: ['authorization'] } }, /lists "authorization", a credential header that inferlog never stores/],
    [{ headers: { response: ['x-api-key'] } }, /credential header/],
    [{ requestIdHeader: 'bad header' }, /"requestIdHeader" must be a header name or false/],
    [{ onError: 'log' }, /"onError" must be a function/],
    [{ database: 42 }, /"database" must be a connection string/],
    [{ migrate: 'yes' }, /"migrate" must be true or false/],
    [{ overflow: 'drop-all' }, /"overflow" must be one of wait, fail-closed, drop-newest, drop-oldest/],
    [{ overflowWaitMs: -1 }, /"overflowWaitMs" must be a whole number/],
    [{ databaseTimeoutMs: 5 }, /"databaseTimeoutMs" must be a whole number/],
    [{ spillDir: '' }, /"spillDir" must be a directory path or false/],
    [{ maxSpillBytes: -1 }, /"maxSpillBytes" must be a whole number/],
    [{ spillAfterMs: 'soon' }, /"spillAfterMs" must be a whole number/],
    [{ onDrop: 1 }, /"onDrop" must be a function/],
    [{ writeAhead: 'yes' }, /"writeAhead" must be true or false/],
    [{ writeAhead: true, spillDir: false }, /"writeAhead" needs a "spillDir"/],
    [{ writeAheadSyncMs: -1 }, /"writeAheadSyncMs" must be a whole number/],
    [{ statementIntervalMs: 0 }, /"statementIntervalMs" must be a whole number from 50 to 3600000/],
    [{ statementIntervalMs: 86_400_000 }, /"statementIntervalMs" must be a whole number from 50 to 3600000/],
  ])('%j throws %s', (options, message) => {
    expect(() => resolveOptions({ ...db, ...(options as object) })).toThrow(InferlogConfigError);
    expect(() => resolveOptions({ ...db, ...(options as object) })).toThrow(message);
  });

  describe('database resolution', () => {
    const saved = { url: process.env.DATABASE_URL, env: process.env.NODE_ENV };
    afterEach(() => {
      process.env.DATABASE_URL = saved.url;
      process.env.NODE_ENV = saved.env;
    });

    test('DATABASE_URL, else embedded outside production, else a start-up error', () => {
      process.env.DATABASE_URL = 'postgres://env/db';
      expect(resolveOptions().database).toBe('postgres://env/db');
      delete process.env.DATABASE_URL;
      process.env.NODE_ENV = 'development';
      expect(resolveOptions().database).toBe('embedded');
      expect(resolveOptions().poolSize).toBe(1);
      process.env.NODE_ENV = 'production';
      expect(() => resolveOptions()).toThrow(/no database configured: set the "database" option or DATABASE_URL/);
      expect(resolveOptions({ database: 'embedded' }).database).toBe('embedded');
    });
  });
});
