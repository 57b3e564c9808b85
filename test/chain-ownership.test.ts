// Chain ownership against a real PostgreSQL (and the embedded one): as the writer role, nobody but the
// writer that registered a chain can move its head, and only forward; rows appended to another
// writer's chain are named by verify; a chain's origin is what the server saw; and as the owner with the
// triggers off, a head rewritten or moved to match re-sealed rows fails its signature.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InferenceLogger, type InferenceRecord } from '@inferlog/core';
import { verifyLog, type VerifyReport } from '@inferlog/core/audit';
import { RECORD_HASH_COLUMNS, rowHash } from '../packages/core/src/chain/canonical';
import { Chain } from '../packages/core/src/chain/chain';
import { headMessage } from '../packages/core/src/chain/head-signature';
import { RECORD_TABLE } from '../packages/core/src/columns';
import { resolveOptions } from '../packages/core/src/options';
import { openPostgresSink } from '../packages/core/src/sink/connect';
import { insertColumns } from '../packages/core/src/sink/insert-columns';
import { pgp } from '../packages/core/src/sink/pgp';
import type { PostgresSink } from '../packages/core/src/sink/postgres-sink';
import { cli, record } from './cli-helpers';
import { DATABASE_URL, db, dropSchema, EMBEDDED, endPool, logOptions, serverOnly, tempDir, uniqueSchema } from './helpers';

const schema = uniqueSchema('ownership');
let sink: PostgresSink;
let mine: Chain;
let other: Chain;

/** SQL as the writer role (`SET LOCAL ROLE inferlog_writer` in a superuser session): what any writer process can do. */
const asWriter = (sql: string, params: unknown[] = []) =>
  db.tx(async (t) => {
    await t.none('SET LOCAL ROLE inferlog_writer');
    return t.any(sql, params);
  });
/** SQL as the table's owner with triggers off (`session_replication_role = replica`). */
const asAttacker = (sql: string, params: unknown[] = []) =>
  db.tx(async (t) => {
    await t.none('SET LOCAL session_replication_role = replica');
    return t.any(sql, params);
  });
const headOf = (chain: Chain) =>
  db.one('SELECT last_seq::int AS seq, last_hash AS hash, head_signature FROM $1:name.inference_log_chain WHERE chain_id = $2', [
    schema,
    chain.id,
  ]);
const rowAt = (chain: Chain, seq: number) =>
  db.one('SELECT * FROM $1:name.inference_log WHERE chain_id = $2 AND chain_seq = $3', [schema, chain.id, seq]);
const verify = () => verifyLog(db, schema, 'inference_log');
const forged = (report: VerifyReport) => report.problems.filter((p) => p.kind === 'forged');

/**
 * Re-seals `mine`'s rows 99 and 100 with a changed status, hashes and links made right, and moves the
 * head's hash to match (owner, triggers off; no signature: the key is not the attacker's). Returns the rows as they were.
 */
async function resealTail(status: number): Promise<Record<string, unknown>[]> {
  const originals = [await rowAt(mine, 99), await rowAt(mine, 100)];
  let prev = (await rowAt(mine, 98)).record_hash as string;
  for (const row of originals.map((r) => ({ ...r }))) {
    row.status = status;
    row.prev_hash = prev;
    row.record_hash = rowHash(row, RECORD_HASH_COLUMNS);
    prev = row.record_hash;
    await asAttacker('UPDATE $1:name.inference_log SET status = $5, prev_hash = $3, record_hash = $4 WHERE id = $2', [
      schema,
      row.id,
      row.prev_hash,
      row.record_hash,
      status,
    ]);
  }
  await asAttacker('UPDATE $1:name.inference_log_chain SET last_hash = $3 WHERE chain_id = $2', [schema, mine.id, prev]);
  return originals;
}

/** Puts rows back as `resealTail` found them (owner, triggers off). */
async function restoreRows(originals: Record<string, unknown>[]): Promise<void> {
  for (const row of originals)
    await asAttacker('UPDATE $1:name.inference_log SET status = $3, prev_hash = $4, record_hash = $5 WHERE id = $2', [
      schema,
      row.id,
      row.status,
      row.prev_hash,
      row.record_hash,
    ]);
}

/** Puts the head back as `head` was read (owner, triggers off). */
const restoreHead = (chain: Chain, head: { seq: number; hash: string; head_signature: string }) =>
  asAttacker('UPDATE $1:name.inference_log_chain SET last_seq = $3, last_hash = $4, head_signature = $5 WHERE chain_id = $2', [
    schema,
    chain.id,
    head.seq,
    head.hash,
    head.head_signature,
  ]);

beforeAll(async () => {
  sink = await openPostgresSink(resolveOptions({ database: DATABASE_URL, schema }));
  mine = new Chain('record', 'credit-api', '1.0.0');
  other = new Chain('record', 'credit-api', '1.0.0');
  await sink.registerChain(mine);
  await sink.registerChain(other);
  const start = Date.now() - 1000;
  for (let b = 0; b < 5; b++) {
    for (const [k, chain] of [mine, other].entries()) {
      const batch = Array.from({ length: 20 }, (_, i) => record(b * 100 + k * 50 + i, start + b * 100 + k * 50 + i));
      chain.seal(batch);
      await sink.insert(batch);
    }
  }
});

afterAll(async () => {
  await sink.close();
  await dropSchema(schema);
  await endPool();
});

test('a genuine writer: every chain head is signed by its registered key, checkable with openssl', async () => {
  const report = await verify();
  expect(report.problems).toEqual([]);
  expect(report.chains.map((c) => [c.chain_id, c.rows, c.signed, c.ok])).toEqual(
    [mine.id, other.id].sort().map((id) => [id, 100, true, true]),
  );
  // An outsider's check: the public key as a DER SubjectPublicKeyInfo (fixed 12-byte prefix for Ed25519) and the signed message.
  const registered = await db.one(
    'SELECT public_key, head_signature, last_seq, last_hash FROM $1:name.inference_log_chain WHERE chain_id = $2',
    [schema, mine.id],
  );
  const dir = tempDir();
  const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(registered.public_key, 'hex')]);
  writeFileSync(join(dir, 'key.der'), der);
  writeFileSync(join(dir, 'head.txt'), `inferlog-chain-head-v1\n${mine.id}\n${registered.last_seq}\n${registered.last_hash}`);
  expect(headMessage(mine.id, Number(registered.last_seq), registered.last_hash)).toEqual(
    Buffer.from(`inferlog-chain-head-v1\n${mine.id}\n100\n${mine.last.hash}`),
  );
  writeFileSync(join(dir, 'head.sig'), Buffer.from(registered.head_signature, 'hex'));
  const openssl = (message: string) =>
    execFileSync(
      'openssl',
      [
        'pkeyutl',
        '-verify',
        '-pubin',
        '-inkey',
        join(dir, 'key.der'),
        '-keyform',
        'DER',
        '-rawin',
        '-in',
        join(dir, message),
        '-sigfile',
        join(dir, 'head.sig'),
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
  expect(openssl('head.txt')).toContain('Signature Verified Successfully');
  writeFileSync(join(dir, 'moved.txt'), `inferlog-chain-head-v1\n${mine.id}\n101\n${registered.last_hash}`);
  expect(() => openssl('moved.txt')).toThrow();
});

describe('as the writer role, only the writer that registered a chain moves its head, and only forward', () => {
  test("a chain's updated_at (when the server last heard from its writer: verify judges silence by it) is the server's, set only as its head moves", async () => {
    const before = await db.one('SELECT updated_at FROM $1:name.inference_log_chain WHERE chain_id = $2', [schema, other.id]);
    await asWriter("UPDATE $1:name.inference_log_chain SET updated_at = now() + interval '1 day' WHERE chain_id = $2", [schema, other.id]);
    expect(await db.one('SELECT updated_at FROM $1:name.inference_log_chain WHERE chain_id = $2', [schema, other.id])).toEqual(before);
  });

  test("rewriting a chain head's hash at the same seq is refused", async () => {
    const head = await headOf(other);
    await expect(
      asWriter("UPDATE $1:name.inference_log_chain SET last_hash = 'ff', updated_at = now() WHERE chain_id = $2", [schema, other.id]),
    ).rejects.toMatchObject({
      code: '42501',
      message: expect.stringContaining(`chain ${other.id}'s head may only move forward (from seq 100 to 100)`),
    });
    expect(await headOf(other)).toEqual(head);
  });

  test('moving last_seq to 10^9 is refused, without the token or with a wrong one', async () => {
    for (const token of [null, 'not-the-token']) {
      await expect(
        asWriter('UPDATE $1:name.inference_log_chain SET last_seq = 1000000000, head_token = $3 WHERE chain_id = $2', [
          schema,
          other.id,
          token,
        ]),
      ).rejects.toMatchObject({
        code: '42501',
        message: expect.stringContaining(`only the writer that registered chain ${other.id} may move its head`),
      });
    }
    expect((await headOf(other)).seq).toBe(100);
    expect(await verify()).toMatchObject({ ok: true });
  });

  test("rows appended to another writer's chain, correctly hashed, cannot move its head: verify names them", async () => {
    const head = await headOf(other);
    const appended: InferenceRecord[] = Array.from({ length: 3 }, (_, i) => record(9000 + i, Date.now() + i));
    let prev = head.hash as string;
    for (const [i, row] of appended.entries()) {
      Object.assign(row, { chain_id: other.id, chain_seq: head.seq + 1 + i, prev_hash: prev });
      row.record_hash = rowHash(row as never, RECORD_HASH_COLUMNS, true);
      prev = row.record_hash;
    }
    await asWriter(pgp.helpers.insert(appended, insertColumns(RECORD_TABLE, schema, 'inference_log')));
    await expect(
      asWriter('UPDATE $1:name.inference_log_chain SET last_seq = $3, last_hash = $4, updated_at = now() WHERE chain_id = $2', [
        schema,
        other.id,
        head.seq + 3,
        prev,
      ]),
    ).rejects.toMatchObject({
      code: '42501',
      message: expect.stringContaining(`only the writer that registered chain ${other.id} may move its head`),
    });
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      expect.objectContaining({
        kind: 'inserted',
        chain_id: other.id,
        seq: 101,
        message: `chain ${other.id} goes on to seq 103 but its writer recorded rows only up to seq 100: seq 101..103 were added by something else`,
      }),
    ]);
    await asAttacker('DELETE FROM $1:name.inference_log WHERE id = ANY($2::uuid[])', [schema, appended.map((r) => r.id)]);
    expect(await verify()).toMatchObject({ ok: true });
  });

  test('a registration claiming another host and pid gets its origin from the server; the origin columns cannot be sent', async () => {
    const posing = new Chain('record', 'credit-api', '1.0.0', 'payments-prod-1');
    const r = posing.registration;
    const columns = '(chain_id, kind, started_at, host, pid, service, service_version, statement_interval_ms, public_key, token_hash';
    const values = [schema, r.chain_id, r.started_at, r.public_key, r.token_hash];
    await expect(
      asWriter(
        `INSERT INTO $1:name.inference_log_chain ${columns}, registered_by, client_addr) VALUES ($2, 'record', $3, 'payments-prod-1', 1, 'credit-api', '1', 60000, $4, $5, 'payments', '10.0.0.7')`,
        values,
      ),
    ).rejects.toMatchObject({ code: '42501' });
    await expect(
      asWriter(
        `INSERT INTO $1:name.inference_log_chain ${columns}) VALUES ($2, 'record', $3, 'payments-prod-1', 1, 'credit-api', '1', 60000, NULL, NULL)`,
        values,
      ),
    ).rejects.toMatchObject({
      code: '42501',
      message: expect.stringContaining('a chain must be registered with its public key and token hash'),
    });
    // Even the owner (triggers on) cannot put words in the server's mouth.
    await db.none(
      `INSERT INTO $1:name.inference_log_chain ${columns}, registered_by, client_addr, registered_at) VALUES ($2, 'record', $3, 'payments-prod-1', 1, 'credit-api', '1', 60000, $4, $5, 'payments', '10.0.0.7', '2020-01-01')`,
      values,
    );
    const seen = await db.one(
      'SELECT host, pid, registered_by, host(client_addr) AS client_addr, backend_start, registered_at, session_user AS me, host(inet_client_addr()) AS addr, now() AS now FROM $1:name.inference_log_chain WHERE chain_id = $2',
      values,
    );
    expect(seen).toMatchObject({ host: 'payments-prod-1', pid: 1, registered_by: seen.me, client_addr: seen.addr });
    expect(seen.registered_by).not.toBe('payments');
    expect(seen.registered_at.getTime()).toBeGreaterThan(Date.parse('2021-01-01'));
    if (!EMBEDDED) expect(seen.client_addr).toBe('127.0.0.1');
  });
});

describe('as the owner with the triggers off, a moved or rewritten head fails its signature', () => {
  test("the head's hash rewritten", async () => {
    const head = await headOf(mine);
    const row99 = await rowAt(mine, 99);
    await asAttacker('UPDATE $1:name.inference_log_chain SET last_hash = $3 WHERE chain_id = $2', [schema, mine.id, row99.record_hash]);
    expect(forged(await verify())).toEqual([
      expect.objectContaining({
        chain_id: mine.id,
        seq: 100,
        message: `chain ${mine.id}'s head (seq 100, hash ${row99.record_hash}) is not signed by the key its writer registered: the head was moved or rewritten by someone else`,
      }),
    ]);
    await restoreHead(mine, head);
  });

  test("the head's seq moved back onto an earlier row, hash and all", async () => {
    const head = await headOf(mine);
    const row90 = await rowAt(mine, 90);
    await asAttacker('UPDATE $1:name.inference_log_chain SET last_seq = 90, last_hash = $3 WHERE chain_id = $2', [
      schema,
      mine.id,
      row90.record_hash,
    ]);
    const report = await verify();
    expect(forged(report)).toEqual([expect.objectContaining({ chain_id: mine.id, seq: 90 })]);
    expect(report.chains.find((c) => c.chain_id === mine.id)).toMatchObject({ signed: false, ok: false });
    await restoreHead(mine, head);
  });

  test("the chain's last rows re-sealed with changed content and the head moved to match: only the signature tells", async () => {
    const head = await headOf(mine);
    const originals = await resealTail(500);
    const report = await verify();
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'forged', chain_id: mine.id, seq: 100 })]);
    await restoreRows(originals);
    await restoreHead(mine, head);
    expect(await verify()).toMatchObject({ ok: true });
  });

  test('a chain registered without a key after keys were required is named; one registered before them is an unsigned legacy chain', async () => {
    const legacy = new Chain('record', 'old-api', '0.9.0');
    const forgedChain = new Chain('record', 'old-api', '0.9.0');
    const register = (chain: Chain, startedAt: Date) =>
      asAttacker("INSERT INTO $1:name.inference_log_chain (chain_id, kind, started_at, host) VALUES ($2, 'record', $3, 'old-host')", [
        schema,
        chain.id,
        startedAt,
      ]);
    // A log created in 2019: a chain that started in 2020 predates chain keys.
    const created = await db.one('SELECT applied_at FROM $1:name.inference_log_migrations WHERE version = 1', [schema]);
    await asAttacker("UPDATE $1:name.inference_log_migrations SET applied_at = '2019-06-01' WHERE version = 1", [schema]);
    await register(legacy, new Date('2020-01-01'));
    await register(forgedChain, new Date());
    const at = Date.parse('2020-01-01');
    for (const chain of [legacy, forgedChain]) {
      const batch = [record(7000, at), record(7001, at + 1)];
      chain.seal(batch);
      // Not registered through this sink: its head moves the way an old writer moves it, unsigned and without a token.
      await sink.insert(batch);
    }
    const report = await verify();
    expect(report.chains.find((c) => c.chain_id === legacy.id)).toMatchObject({ rows: 2, signed: false, origin: null, ok: true });
    expect(report.problems).toEqual([
      expect.objectContaining({
        kind: 'forged',
        chain_id: forgedChain.id,
        message: `chain ${forgedChain.id} has no public key though it was registered after chain keys were required: it was registered by something other than an inferlog writer, or its key was removed`,
      }),
    ]);
    const text = await cli(schema, ['verify']);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('unsigned (legacy)');
    expect(text.stdout).toContain(`FIRST PROBLEM: chain ${forgedChain.id} has no public key`);
    await asAttacker(
      'DELETE FROM $1:name.inference_log WHERE chain_id = ANY($2::uuid[]); DELETE FROM $1:name.inference_log_chain WHERE chain_id = ANY($2::uuid[])',
      [schema, [legacy.id, forgedChain.id]],
    );
    await asAttacker('UPDATE $1:name.inference_log_migrations SET applied_at = $2 WHERE version = 1', [schema, created.applied_at]);
  });

  describe('a signed chain stripped of its key, re-sealed and passed off as one registered before chain keys', () => {
    async function restore(originals: Record<string, unknown>[], chain: Record<string, unknown>): Promise<void> {
      await restoreRows(originals);
      await asAttacker(
        `UPDATE $1:name.inference_log_chain SET last_hash = $3, public_key = $4, head_signature = $5, token_hash = $6, started_at = $7,
           registered_at = $8, registered_by = $9, client_addr = $10, backend_start = $11 WHERE chain_id = $2`,
        [
          schema,
          mine.id,
          chain.last_hash,
          chain.public_key,
          chain.head_signature,
          chain.token_hash,
          chain.started_at,
          chain.registered_at,
          chain.registered_by,
          chain.client_addr,
          chain.backend_start,
        ],
      );
      expect(await verify()).toMatchObject({ ok: true });
    }
    const chainRow = () => db.one('SELECT * FROM $1:name.inference_log_chain WHERE chain_id = $2', [schema, mine.id]);

    test('key, origin and token removed and the start moved before the log existed: named', async () => {
      const chain = await chainRow();
      const originals = await resealTail(503);
      await asAttacker(
        `UPDATE $1:name.inference_log_chain SET public_key = NULL, head_signature = NULL, token_hash = NULL, registered_at = NULL,
           registered_by = NULL, client_addr = NULL, backend_start = NULL, started_at = '2020-01-01' WHERE chain_id = $2`,
        [schema, mine.id],
      );
      try {
        expect(forged(await verify())).toEqual([
          expect.objectContaining({ chain_id: mine.id, message: expect.stringContaining('before the log was created') }),
        ]);
      } finally {
        await restore(originals, chain);
      }
    });

    test('key and origin removed and migration 5 deleted from the migrations table: named', async () => {
      const chain = await chainRow();
      const five = await db.one('SELECT * FROM $1:name.inference_log_migrations WHERE version = 5', [schema]);
      const originals = await resealTail(503);
      await asAttacker(
        `UPDATE $1:name.inference_log_chain SET public_key = NULL, head_signature = NULL, registered_at = NULL WHERE chain_id = $2;
         DELETE FROM $1:name.inference_log_migrations WHERE version = 5`,
        [schema, mine.id],
      );
      try {
        expect(forged(await verify())).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ chain_id: mine.id, message: expect.stringContaining('no longer records migration 5') }),
          ]),
        );
      } finally {
        await asAttacker('INSERT INTO $1:name.inference_log_migrations (version, name, applied_at) VALUES (5, $2, $3)', [
          schema,
          five.name,
          five.applied_at,
        ]);
        await restore(originals, chain);
      }
    });
  });
});

test("a logger's record and event chains verify signed after many batches and a write it retried", async () => {
  const schema2 = uniqueSchema('ownership_logger');
  const logger = new InferenceLogger(logOptions(schema2));
  try {
    await logger.ready();
    for (let i = 0; i < 5; i++) await logger.event(`r-${i}`, { type: 'human_review', actor: 'reviewer-1', data: { i } });
    // The head move of the second batch fails once (as a serialization failure would): the logger unseals,
    // reads the head back and writes the batch again, signed anew.
    await db.none(
      `CREATE SEQUENCE $1:name.fail_once;
       CREATE FUNCTION $1:name.fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.last_seq = 6 AND nextval('$1:name.fail_once') = 1 THEN RAISE EXCEPTION 'injected' USING ERRCODE = '40001'; END IF;
         RETURN NEW;
       END $$;
       CREATE TRIGGER fail_once BEFORE UPDATE ON $1:name.inference_log_chain FOR EACH ROW EXECUTE FUNCTION $1:name.fail_once()`,
      [schema2],
    );
    const { Exchange } = await import('../packages/core/src/capture/exchange');
    const route = logger.options.selector.select('POST', '/v2/models/m/infer', {})!;
    let failed = 0;
    for (let b = 0; b < 6; b++) {
      for (let i = 0; i < 3; i++) {
        const x = new Exchange(route, { method: 'POST', url: '/v2/models/m/infer', headers: {} } as never, 1024, null);
        x.status = 200;
        logger.enqueue(x);
      }
      await logger.flush().catch(async () => {
        failed++;
        await logger.flush();
      });
    }
    expect(failed).toBeLessThanOrEqual(1);
    expect(await db.one('SELECT is_called FROM $1:name.fail_once', [schema2])).toEqual({ is_called: true });
    expect(logger.stats()).toMatchObject({ written: 18, dropped: 0 });
    const report = await verifyLog(db, schema2, 'inference_log');
    expect(report.problems).toEqual([]);
    expect(report.chains.map((c) => [c.table, c.rows, c.signed])).toEqual([
      ['records', 18, true],
      ['events', 5, true],
    ]);
    const json = await cli(schema2, ['verify', '--json']);
    expect(JSON.parse(json.stdout).chains[0]).toMatchObject({ signed: true, origin: { registered_by: expect.any(String) } });
    const text = await cli(schema2, ['verify']);
    expect(text.stdout).toMatch(/signed/);
  } finally {
    await logger.close();
    await dropSchema(schema2);
  }
});

serverOnly('PGlite has one session: a writer cannot log in as another role')(
  "a writer logged in as its own member of inferlog_writer: the chain's origin names that login and its address",
  async () => {
    const login = `${schema}_pay`;
    await db.none('CREATE ROLE $1:name LOGIN IN ROLE inferlog_writer', [login]);
    const url = new URL(DATABASE_URL);
    url.username = login;
    url.password = '';
    const theirs = await openPostgresSink(resolveOptions({ database: url.toString(), schema, migrate: false }));
    try {
      const chain = new Chain('record', 'payments', '2.0.0', 'credit-api-host');
      await theirs.registerChain(chain);
      const batch = [record(8000, Date.now()), record(8001, Date.now() + 1)];
      chain.seal(batch);
      await theirs.insert(batch);
      const report = await verifyLog(db, schema, 'inference_log', { chain: chain.id });
      expect(report.chains[0]).toMatchObject({ signed: true, origin: { registered_by: login, client_addr: '127.0.0.1' }, ok: true });
      const text = await cli(schema, ['verify', '--chain', chain.id]);
      expect(text.stdout).toContain(`${login}@127.0.0.1`);
    } finally {
      await theirs.close();
      await asAttacker("DELETE FROM $1:name.inference_log WHERE request_id IN ('r-8000', 'r-8001')", [schema]);
      await asAttacker('DELETE FROM $1:name.inference_log_chain WHERE registered_by = $2', [schema, login]);
      await db.none('DROP OWNED BY $1:name; DROP ROLE $1:name', [login]);
    }
  },
);
