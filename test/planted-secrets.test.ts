// Planted secrets: requests full of personal data (test/planted/cases.ts) are sent to a real Express or Koa
// app in a process of its own, configured as users configure redaction, while the database refuses its
// writes (a trigger that quotes row values, as a database error may) and then takes them. Everything
// inferlog writes is then searched (test/planted/secrets.ts): every stored column of records and events,
// the spill and write-ahead journals, onError reports or stderr, what its calls throw, stats(), 503 bodies
// and the event route's answers. Each leak found later becomes a case in cases.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PlantedApp } from './planted/app-process';
import { CASES, type Output, refusals, SENTENCE } from './planted/cases';
import { type Leak, leaksIn, SECRETS } from './planted/secrets';
import { DATABASE_URL, db, dropSchema, endPool, tempDir, uniqueSchema, until } from './helpers';

const schemas: string[] = [];
const apps: PlantedApp[] = [];

afterAll(async () => {
  for (const app of apps) app.kill();
  for (const schema of schemas) await dropSchema(schema);
  await endPool();
});

/** What inferlog makes itself: not searched (see GENERATED in planted/secrets.ts). */
const GENERATED_COLUMNS = ['id', 'chain_id', 'chain_seq', 'prev_hash', 'record_hash', 'started_at', 'ended_at', 'created_at', 'latency_ms'];

/** Makes the database refuse every row of the log and event tables, with an error that quotes the row. */
async function refuseWrites(schema: string): Promise<void> {
  await db.none(
    `CREATE FUNCTION $1:name.planted_refuse_record() RETURNS trigger LANGUAGE plpgsql AS $f$
       BEGIN RAISE EXCEPTION 'row refused: route % path % request %', NEW.route, NEW.path, NEW.request_id; END $f$;
     CREATE FUNCTION $1:name.planted_refuse_event() RETURNS trigger LANGUAGE plpgsql AS $f$
       BEGIN RAISE EXCEPTION 'event refused: % % %', NEW.type, NEW.subject, NEW.actor; END $f$;
     CREATE TRIGGER planted_refuse BEFORE INSERT ON $1:name.planted FOR EACH ROW EXECUTE FUNCTION $1:name.planted_refuse_record();
     CREATE TRIGGER planted_refuse BEFORE INSERT ON $1:name.planted_closed FOR EACH ROW EXECUTE FUNCTION $1:name.planted_refuse_record();
     CREATE TRIGGER planted_refuse BEFORE INSERT ON $1:name.planted_event FOR EACH ROW EXECUTE FUNCTION $1:name.planted_refuse_event();`,
    [schema],
  );
}

async function acceptWrites(schema: string): Promise<void> {
  for (const table of ['planted', 'planted_closed', 'planted_event']) {
    // DROP TRIGGER locks the partitioned table and its partitions while the logger may be reading them
    // (which rows are stored): PostgreSQL can end that as a deadlock, and the DROP is then tried again.
    for (let attempt = 1; ; attempt++) {
      try {
        await db.none('DROP TRIGGER planted_refuse ON $1:name.$2:name', [schema, table]);
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== '40P01' || attempt >= 5) throw err;
      }
    }
  }
}

/** Every file under `dir`, as text, by path. */
function filesUnder(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    try {
      out.set(path, readFileSync(path).toString('utf8'));
    } catch {
      // removed meanwhile
    }
  }
  return out;
}

/** Keeps every version of every journal file seen while it runs (the write-ahead journal is emptied once stored). */
function watchJournals(dir: string): { stop(): Output[] } {
  const seen = new Map<string, Set<string>>();
  const look = () => {
    for (const [path, text] of filesUnder(dir)) {
      if (!seen.has(path)) seen.set(path, new Set());
      seen.get(path)!.add(text);
    }
  };
  const timer = setInterval(look, 25);
  return {
    stop() {
      clearInterval(timer);
      look();
      return [...seen].flatMap(([path, texts]) => [...texts].map((text) => ({ where: `journal ${path.slice(dir.length)}`, text })));
    },
  };
}

async function storedRows(schema: string, table: string): Promise<Output[]> {
  const rows = await db.any('SELECT * FROM $1:name.$2:name', [schema, table]);
  return rows.map((row) => ({
    where: `${table} row ${row.request_id ?? row.subject ?? ''}`.slice(0, 80),
    text: JSON.stringify(Object.fromEntries(Object.entries(row).filter(([column]) => !GENERATED_COLUMNS.includes(column)))),
  }));
}

const thrown = (where: string, reply: { ok: boolean; error?: string; cause?: string | null }): Output[] =>
  reply.ok ? [] : [{ where: `thrown by ${where}`, text: `${reply.error} ${reply.cause ?? ''}` }];

/** Runs every case against a fresh app and returns what inferlog wrote, by place. */
async function plant(framework: 'express' | 'koa', reports: 'onError' | 'stderr'): Promise<{ outputs: Output[]; app: PlantedApp }> {
  const schema = uniqueSchema(`planted_${framework}`);
  schemas.push(schema);
  const spillDir = tempDir('planted-spill-');
  const app = await PlantedApp.start({ database: DATABASE_URL, schema, framework, spillDir, reports });
  apps.push(app);
  const outputs: Output[] = [];
  const journals = watchJournals(spillDir);

  // While the database refuses every row: the cases, refusals of the fail-closed app, events that fail.
  await refuseWrites(schema);
  let exchanges = 0;
  for (const planted of CASES) {
    outputs.push(...(await planted.run({ main: app.url('main'), closed: app.url('closed') })));
    exchanges += planted.exchanges;
  }
  await until(async () => Number((await app.stats()).captured) >= exchanges, `${exchanges} exchanges captured`);
  await postTenant(app);
  await until(async () => (await app.stats('closed')).lastError !== null, 'a failed write in the fail-closed app');
  outputs.push(...(await refusals(app.url('closed'), 8)));
  const event = { type: `override: ${SECRETS.card} ${SECRETS.email}`, actor: SECRETS.phone, data: { note: SENTENCE } };
  outputs.push(...thrown('event() while the database refuses', await app.command('event', 'main', { subject: SECRETS.email2, event })));
  outputs.push(
    ...thrown(
      'event() with an unknown field',
      await app.command('event', 'main', { subject: 'x', event: { type: 'x', [SECRETS.iban]: 1 } }),
    ),
  );
  await until(async () => Number((await app.stats()).spilled) > 0, 'records spilled to the journal');
  outputs.push(...thrown('flush() while the database refuses', await app.command('flush')));
  outputs.push({ where: 'stats() of main', text: JSON.stringify(await app.stats()) });
  outputs.push({ where: 'stats() of closed', text: JSON.stringify(await app.stats('closed')) });

  // The database takes rows again: the journals are replayed, the events sent again are stored.
  await acceptWrites(schema);
  await until(async () => (await app.command('flush')).ok && (await app.command('flush', 'closed')).ok, 'everything stored', 30_000);
  outputs.push(...thrown('event() once stored', await app.command('event', 'main', { subject: SECRETS.email2, event })));
  for (const planted of CASES.filter((c) => c.exchanges === 0))
    outputs.push(...(await planted.run({ main: app.url('main'), closed: app.url('closed') })));
  outputs.push(...journals.stop());
  outputs.push({ where: 'stats() after replay', text: JSON.stringify(await app.stats()) });
  outputs.push(...thrown('close()', await app.close()));
  for (const table of ['planted', 'planted_closed', 'planted_event']) outputs.push(...(await storedRows(schema, table)));
  outputs.push(...app.reports.map((r) => ({ where: `onError ${r.code}`, text: `${r.message} ${r.cause ?? ''}` })));
  outputs.push({ where: 'stderr', text: app.stderr });
  return { outputs, app };
}

/** One request on the fail-closed app, so that its first write fails (and the next refusals say why). */
async function postTenant(app: PlantedApp): Promise<void> {
  await fetch(`${app.url('closed')}/tenants/${encodeURIComponent(SECRETS.email)}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ note: 'first' }),
  });
}

const describeLeaks = (leaks: Leak[]) => leaks.map((l) => `${l.where}: ${l.secret} (${l.probe}) in …${l.context}…`);

describe.each(['express', 'koa'] as const)('%s', (framework) => {
  test('with onError: nothing planted comes out of inferlog, whole or as a recoverable part', async () => {
    const { outputs, app } = await plant(framework, 'onError');
    // The places were reached: reports of each kind, refusals, journals, rows of every case.
    const codes = new Set(app.reports.map((r) => r.code));
    for (const code of ['E_WRITE', 'E_RECORD', 'E_EVENT']) expect(codes).toContain(code);
    expect(outputs.some((o) => o.where.startsWith('503 body'))).toBe(true);
    expect(outputs.some((o) => o.where.startsWith('journal') && o.text.length > 0)).toBe(true);
    expect(outputs.filter((o) => o.where.startsWith('planted row')).length).toBe(CASES.reduce((n, c) => n + c.exchanges, 0));
    expect(describeLeaks(outputs.flatMap((o) => leaksIn(o.where, o.text)))).toEqual([]);
  }, 120_000);

  test('without onError: nothing planted reaches stderr', async () => {
    const { outputs } = await plant(framework, 'stderr');
    const stderr = outputs.find((o) => o.where === 'stderr')!.text;
    expect(stderr).toMatch(/inferlog: /);
    expect(describeLeaks(outputs.flatMap((o) => leaksIn(o.where, o.text)))).toEqual([]);
  }, 120_000);
});
