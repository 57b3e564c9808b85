// AI Act Art. 12(3) and 14(5) for remote biometric identification: identifications annotated by real
// apps (the face-match example on Express, a Koa app that annotates what the test sends, hostile values
// included), verifiers recorded as oversight events by request id and by id, and the check read back
// through the core functions, `show`, `stats` and `query --failing-identifications`.
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import request from 'supertest';
import { annotate, inferenceLog as koaLog, type InferenceLogMiddleware } from '@inferlog/koa';
import {
  checkIdentifications,
  countIdentifications,
  showInference,
  type IdentificationCounts,
  type IdentificationFinding,
  type IdentificationPage,
  type IdentificationProblem,
  type RecordFilter,
  type ShowResult,
} from '@inferlog/core/audit';
import { createIdentificationApp, WATCHLIST } from '../examples/src/face-match';
import { verifierKey, verifierKeySql } from '../packages/core/src/audit/identification';
import { cli } from './cli-helpers';
import { db, dropSchema, endPool, logOptions, settle, tempDir, uniqueSchema } from './helpers';

const schema = uniqueSchema('ident');
const TABLE = 'inference_log';
const REFERENCE = `${WATCHLIST.name}@${WATCHLIST.snapshot}`;
const HOSTILE = '<script>alert(1)</script>\u001b[2J\u202eevil';
const LONG = `watchlist-${'x'.repeat(100_000)}`;
const MATCHING_PROBE = WATCHLIST.entries[0]!.embedding;
const OTHER_PROBE = [0, 0, 0, 1];
/** ESC and RIGHT-TO-LEFT OVERRIDE: what HOSTILE holds that a terminal would act on. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what the output must not hold
const TERMINAL_ACTS_ON = /[\u001b\u202e]/;

/** A verifier event: about the inference by its request id or by its id. */
interface Verification {
  by: 'request_id' | 'id';
  type: string;
  actor?: string;
}

/** One inference the test sends, and what the check must say of it. */
interface Case {
  requestId: string;
  /** Express (the example, which annotates itself) with a probe, or Koa with the annotations to set (`undefined`: none). */
  send: { express: readonly number[] } | { koa: unknown };
  verifications: Verification[];
  /** null: not an identification. */
  expected: { match: boolean | null; reference_database: string | null; verifiers: string[]; problems: IdentificationProblem[] } | null;
}

const human = (actor: string, by: Verification['by'] = 'request_id'): Verification => ({ by, type: 'human_review', actor });
const second = (actor: string, by: Verification['by'] = 'id'): Verification => ({ by, type: 'second_verifier', actor });
const match = (verifiers: string[], problems: IdentificationProblem[]) => ({
  match: true,
  reference_database: REFERENCE,
  verifiers,
  problems,
});

const CASES: Case[] = [
  { requestId: 'm-0', send: { express: MATCHING_PROBE }, verifications: [], expected: match([], ['fewer_than_two_verifiers']) },
  {
    requestId: 'm-1',
    send: { express: MATCHING_PROBE },
    verifications: [human('reviewer-a')],
    expected: match(['reviewer-a'], ['fewer_than_two_verifiers']),
  },
  {
    requestId: 'm-2',
    send: { express: MATCHING_PROBE },
    verifications: [human('reviewer-a'), second('reviewer-b')],
    expected: match(['reviewer-a', 'reviewer-b'], []),
  },
  {
    requestId: 'm-same-twice',
    send: { express: MATCHING_PROBE },
    verifications: [human('reviewer-a', 'request_id'), second('reviewer-a', 'id'), human('reviewer-a', 'id')],
    expected: match(['reviewer-a'], ['fewer_than_two_verifiers']),
  },
  {
    // One person spelt three ways (letter case) is one verifier; shown as the first spelling in code point order.
    requestId: 'm-one-person-spelt-three-ways',
    send: { express: MATCHING_PROBE },
    verifications: [human('alice'), second('ALICE'), human('Alice', 'id')],
    expected: match(['ALICE'], ['fewer_than_two_verifiers']),
  },
  {
    requestId: 'm-not-verifiers',
    send: { express: MATCHING_PROBE },
    verifications: [
      { by: 'request_id', type: 'override', actor: 'reviewer-c' },
      { by: 'id', type: 'feedback', actor: 'reviewer-d' },
      { by: 'id', type: 'human_review', actor: ' \t ' },
      { by: 'id', type: 'second_verifier' },
      { by: 'id', type: 'Human_Review', actor: 'reviewer-e' },
    ],
    expected: match([], ['fewer_than_two_verifiers']),
  },
  {
    requestId: 'no-match',
    send: { express: OTHER_PROBE },
    verifications: [],
    expected: { match: false, reference_database: REFERENCE, verifiers: [], problems: [] },
  },
  { requestId: 'k-plain', send: { koa: undefined }, verifications: [human('reviewer-a')], expected: null },
  { requestId: 'k-null', send: { koa: null }, verifications: [], expected: null },
  {
    requestId: 'k-no-reference',
    send: { koa: { match: true } },
    verifications: [human('reviewer-a'), second('reviewer-b')],
    expected: { match: true, reference_database: null, verifiers: ['reviewer-a', 'reviewer-b'], problems: ['no_reference_database'] },
  },
  {
    requestId: 'k-no-reference-no-match',
    send: { koa: { match: false, candidate: null } },
    verifications: [],
    expected: { match: false, reference_database: null, verifiers: [], problems: ['no_reference_database'] },
  },
  {
    requestId: 'k-match-text',
    send: { koa: { reference_database: 'wl@1', match: 'true' } },
    verifications: [human('reviewer-a')],
    expected: { match: null, reference_database: 'wl@1', verifiers: ['reviewer-a'], problems: ['match_not_boolean'] },
  },
  {
    requestId: 'k-match-number',
    send: { koa: { reference_database: 'wl@1', match: 1 } },
    verifications: [],
    expected: { match: null, reference_database: 'wl@1', verifiers: [], problems: ['match_not_boolean'] },
  },
  {
    requestId: 'k-text',
    send: { koa: 'yes' },
    verifications: [],
    expected: { match: null, reference_database: null, verifiers: [], problems: ['match_not_boolean', 'no_reference_database'] },
  },
  {
    requestId: 'k-array',
    send: { koa: [{ match: true, reference_database: 'wl@1' }] },
    verifications: [],
    expected: { match: null, reference_database: null, verifiers: [], problems: ['match_not_boolean', 'no_reference_database'] },
  },
  {
    requestId: 'k-reference-number',
    send: { koa: { reference_database: 42, match: false } },
    verifications: [],
    expected: { match: false, reference_database: null, verifiers: [], problems: ['no_reference_database'] },
  },
  {
    requestId: 'k-reference-blank',
    send: { koa: { reference_database: ' \t\n', match: false } },
    verifications: [],
    expected: { match: false, reference_database: null, verifiers: [], problems: ['no_reference_database'] },
  },
  {
    requestId: 'k-hostile',
    send: { koa: { reference_database: HOSTILE, match: true } },
    verifications: [human('<img src=x onerror=alert(1)>'), second('reviewer-\u001b[31mb')],
    expected: {
      match: true,
      reference_database: HOSTILE,
      verifiers: ['<img src=x onerror=alert(1)>', 'reviewer-\u001b[31mb'],
      problems: [],
    },
  },
  {
    requestId: 'k-long',
    send: { koa: { reference_database: LONG, match: true } },
    verifications: [human('reviewer-a')],
    expected: { match: true, reference_database: LONG, verifiers: ['reviewer-a'], problems: ['fewer_than_two_verifiers'] },
  },
];

/** Two inferences under one request id: an event by that request id is about both, one by id about one. */
const SHARED = 'shared-request';

let express: ReturnType<typeof createIdentificationApp>;
let koa: InferenceLogMiddleware;
let koaApp: Koa;
let startedAt: Date;
/** Request id → the record's id (the second shared inference under `${SHARED}#2`). */
const ids = new Map<string, string>();
/** Every case with its expectation, the two shared inferences included, in the order they were sent. */
const expectations: { key: string; requestId: string; expected: Case['expected'] }[] = [];

async function send(c: Case): Promise<void> {
  if ('express' in c.send)
    await request(express.app)
      .post('/v2/models/face-match/infer')
      .set('x-request-id', c.requestId)
      .send({ inputs: [{ name: 'embedding', shape: [1, 4], datatype: 'FP32', data: c.send.express }] })
      .expect(200);
  else
    await request(koaApp.callback())
      .post('/v2/models/probe/infer')
      .set('x-request-id', c.requestId)
      .send({
        inputs: [{ name: 'embedding', shape: [1, 4], datatype: 'FP32', data: OTHER_PROBE }],
        // As JSON text: OIP parameters are scalars.
        ...(c.send.koa === undefined ? {} : { parameters: { identification: JSON.stringify(c.send.koa) } }),
      })
      .expect(200);
}

/** Records a verification through the example's route (by request id) or the logger (by id). */
async function verify(requestId: string, id: string, v: Verification): Promise<void> {
  if (v.by === 'request_id' && v.actor !== undefined && v.actor.trim() === v.actor) {
    await request(express.app)
      .post(`/inferences/${encodeURIComponent(requestId)}/verifications`)
      .set('x-reviewer', v.actor)
      .send({ type: v.type, data: { decision: 'confirmed' } })
      .expect(201);
  } else await express.log.event(v.by === 'id' ? id : requestId, { type: v.type, ...(v.actor === undefined ? {} : { actor: v.actor }) });
}

beforeAll(async () => {
  startedAt = new Date(Date.now() - 1000);
  express = createIdentificationApp(logOptions(schema, { service: 'face-match' }));
  await express.log.ready();
  koa = koaLog(logOptions(schema, { service: 'koa-ident' }));
  await koa.ready();
  koaApp = new Koa();
  koaApp.use(koa);
  const router = new Router();
  router.post('/v2/models/:model/infer', bodyParser(), (ctx) => {
    const parameters = (ctx.request.body as { parameters?: Record<string, unknown> }).parameters;
    if (typeof parameters?.identification === 'string') annotate(ctx, { identification: JSON.parse(parameters.identification) });
    ctx.body = { model_name: 'probe', outputs: [{ name: 'match', shape: [1], datatype: 'BOOL', data: [false] }] };
  });
  koaApp.use(router.routes());

  for (const c of CASES) await send(c);
  for (const n of [1, 2])
    await request(express.app)
      .post('/v2/models/face-match/infer')
      .set('x-request-id', SHARED)
      .send({ inputs: [{ name: 'embedding', shape: [1, 4], datatype: 'FP32', data: MATCHING_PROBE }], id: `probe-${n}` })
      .expect(200);
  const sentToExpress = CASES.filter((c) => 'express' in c.send).length + 2;
  await settle(express.log, sentToExpress);
  await settle(koa, CASES.length + 2 - sentToExpress);
  for (const row of await db.any('SELECT id, request_id FROM $1:name.$2:name ORDER BY started_at, id', [schema, TABLE]))
    ids.set(ids.has(row.request_id) ? `${row.request_id}#2` : row.request_id, row.id);

  for (const c of CASES) for (const v of c.verifications) await verify(c.requestId, ids.get(c.requestId)!, v);
  await verify(SHARED, ids.get(SHARED)!, human('reviewer-a', 'request_id'));
  await verify(SHARED, ids.get(SHARED)!, second('reviewer-b', 'id'));

  for (const c of CASES) expectations.push({ key: c.requestId, requestId: c.requestId, expected: c.expected });
  expectations.push({ key: SHARED, requestId: SHARED, expected: match(['reviewer-a', 'reviewer-b'], []) });
  expectations.push({ key: `${SHARED}#2`, requestId: SHARED, expected: match(['reviewer-a'], ['fewer_than_two_verifiers']) });
});

afterAll(async () => {
  await express.log.close();
  await koa.close();
  await dropSchema(schema);
  await endPool();
});

const failing = () => expectations.filter((e) => e.expected && e.expected.problems.length > 0);

/** The counts the check must give, computed from the cases. */
function expectedCounts(): IdentificationCounts {
  const identified = expectations.flatMap((e) => (e.expected ? [e.expected] : []));
  return {
    total: identified.length,
    matches: identified.filter((e) => e.match === true).length,
    under_verified: identified.filter((e) => e.problems.includes('fewer_than_two_verifiers')).length,
    without_reference_database: identified.filter((e) => e.problems.includes('no_reference_database')).length,
    match_not_boolean: identified.filter((e) => e.problems.includes('match_not_boolean')).length,
    failing: identified.filter((e) => e.problems.length > 0).length,
  };
}

/** A finding as the test expects it. */
function expectedFinding(key: string): Partial<IdentificationFinding> {
  const e = expectations.find((x) => x.key === key)!;
  return {
    id: ids.get(key),
    request_id: e.requestId,
    match: e.expected!.match,
    reference_database: e.expected!.reference_database,
    verifiers: e.expected!.verifiers,
    verifier_count: e.expected!.verifiers.length,
    problems: e.expected!.problems,
  };
}

async function allPages(filter: RecordFilter, limit: number): Promise<IdentificationFinding[]> {
  const rows: IdentificationFinding[] = [];
  let after: string | undefined;
  do {
    const page: IdentificationPage = await checkIdentifications(db, schema, TABLE, filter, { limit, after });
    expect(page.rows.length).toBeLessThanOrEqual(limit);
    rows.push(...page.rows);
    after = page.next ?? undefined;
  } while (after);
  return rows;
}

test('the annotations are stored as the apps set them, hostile and long values included', async () => {
  const stored = new Map(
    (await db.any('SELECT request_id, annotations FROM $1:name.$2:name', [schema, TABLE])).map((r) => [r.request_id, r.annotations]),
  );
  expect(stored.get('m-2')).toEqual({ identification: { reference_database: REFERENCE, match: true, candidate: 'W-0001' } });
  expect(stored.get('no-match')).toEqual({ identification: { reference_database: REFERENCE, match: false } });
  expect(stored.get('k-hostile')).toEqual({ identification: { reference_database: HOSTILE, match: true } });
  expect(stored.get('k-long').identification.reference_database).toBe(LONG);
  expect(stored.get('k-text')).toEqual({ identification: 'yes' });
  expect(stored.get('k-null')).toEqual({ identification: null });
  expect(stored.get('k-plain')).toBeNull();
});

test('countIdentifications and checkIdentifications name exactly the failing identifications, in (started_at, id) order, over pages', async () => {
  expect(await countIdentifications(db, schema, TABLE)).toEqual(expectedCounts());
  const expected = failing().map((e) => expectedFinding(e.key));
  expect(expected.length).toBe(15);
  const whole = await checkIdentifications(db, schema, TABLE, {}, { limit: 100 });
  expect(whole.next).toBeNull();
  expect(whole.rows).toEqual(expected.map((e) => expect.objectContaining(e)));
  // The same rows a few at a time: the cursor continues exactly after the last row of each page.
  expect(await allPages({}, 3)).toEqual(whole.rows);
  const order = [...ids.values()];
  expect(whole.rows.map((r) => order.indexOf(r.id))).toEqual([...whole.rows.map((r) => order.indexOf(r.id))].sort((a, b) => a - b));
});

test('the check follows the filter: model, time range, annotations', async () => {
  const fromExpress = expectations.filter((e) => e.key.startsWith('m-') || e.key.startsWith('no-') || e.key.startsWith(SHARED));
  const onlyExpress = await countIdentifications(db, schema, TABLE, { model: 'face-match' });
  expect(onlyExpress).toMatchObject({ total: fromExpress.length, failing: fromExpress.filter((e) => e.expected!.problems.length).length });
  expect((await allPages({ model: 'face-match' }, 2)).map((r) => r.id)).toEqual(
    failing()
      .filter((e) => fromExpress.includes(e))
      .map((e) => ids.get(e.key)),
  );
  expect(await countIdentifications(db, schema, TABLE, { until: startedAt })).toEqual({
    total: 0,
    matches: 0,
    under_verified: 0,
    without_reference_database: 0,
    match_not_boolean: 0,
    failing: 0,
  });
  expect(await checkIdentifications(db, schema, TABLE, { since: new Date(Date.now() + 60_000) })).toEqual({ rows: [], next: null });
  const hostile = await checkIdentifications(db, schema, TABLE, { annotations: [{ key: 'identification', value: { match: true } }] });
  expect(hostile.rows.every((r) => r.match === true)).toBe(true);
});

test('showInference judges each inference as the check does: reference database, match, distinct verifiers, whether it passes', async () => {
  for (const e of expectations) {
    const id = ids.get(e.key)!;
    const result = await showInference(db, schema, TABLE, id, { verify: false });
    expect(result.total).toBe(1);
    const [view] = result.inferences;
    if (e.expected === null) {
      expect(view).not.toHaveProperty('identification');
      continue;
    }
    expect(view!.identification).toEqual({
      reference_database: e.expected.reference_database,
      match: e.expected.match,
      verifiers: e.expected.verifiers,
      required: 2,
      satisfied: e.expected.problems.length === 0,
      problems: e.expected.problems,
    });
  }
  // By request id, both inferences that share it: the event by request id is about both.
  const shared = await showInference(db, schema, TABLE, SHARED, { verify: false });
  expect(shared.inferences.map((i) => i.identification?.verifiers)).toEqual([['reviewer-a', 'reviewer-b'], ['reviewer-a']]);
});

test('inferlog show prints the identification section; hostile values are escaped for the terminal and cut, whole in --json', async () => {
  const passed = await cli(schema, ['show', 'm-2']);
  expect(passed.code).toBe(0);
  expect(passed.stdout).toContain(
    [
      'Identification (AI Act Art. 12(3), 14(5))',
      `  reference db  ${REFERENCE}`,
      '  match         yes',
      '  verifiers     reviewer-a, reviewer-b  (2 distinct; a match needs 2)',
      '  check         passes',
    ].join('\n'),
  );
  const under = await cli(schema, ['show', 'm-same-twice']);
  expect(under.stdout).toContain('  verifiers     reviewer-a  (1 distinct; a match needs 2)');
  expect(under.stdout).toContain('  check         FAILS: fewer than two verifiers');
  expect((await cli(schema, ['show', 'k-text'])).stdout).toContain(
    '  reference db  NOT RECORDED\n  match         not recorded as true or false\n',
  );
  expect((await cli(schema, ['show', 'k-plain'])).stdout).not.toContain('Identification');

  const hostile = await cli(schema, ['show', 'k-hostile']);
  expect(hostile.code).toBe(0);
  expect(hostile.stdout).not.toMatch(TERMINAL_ACTS_ON);
  // Control characters a terminal would act on are shown as spaces (as show prints every cut value), markup as text.
  expect(hostile.stdout).toContain('  reference db  <script>alert(1)</script> [2J evil\n');
  expect(hostile.stdout).toContain('  verifiers     <img src=x onerror=alert(1)>, reviewer- [31mb  (2 distinct');
  const json: ShowResult = JSON.parse((await cli(schema, ['show', 'k-hostile', '--json'])).stdout);
  expect(json.inferences[0]!.identification).toMatchObject({ reference_database: HOSTILE, satisfied: true });

  const long = await cli(schema, ['show', 'k-long']);
  const line = long.stdout.split('\n').find((l) => l.startsWith('  reference db  '))!;
  expect(line.length).toBe('  reference db  '.length + 2000);
  expect(line.endsWith('…')).toBe(true);
  const longJson: ShowResult = JSON.parse((await cli(schema, ['show', 'k-long', '--json'])).stdout);
  expect(longJson.inferences[0]!.identification!.reference_database).toBe(LONG);
});

test('inferlog stats counts identifications, names the first failing ones, and its hint lists them all', async () => {
  const since = startedAt.toISOString();
  const json = JSON.parse((await cli(schema, ['stats', '--json', '--since', since])).stdout);
  const perModel = new Map<string, number>();
  for (const d of json.days as { model_name: string; count: number }[])
    perModel.set(d.model_name, (perModel.get(d.model_name) ?? 0) + d.count);
  expect(Object.fromEntries(perModel)).toEqual({
    'face-match': CASES.filter((c) => 'express' in c.send).length + 2,
    probe: CASES.filter((c) => 'koa' in c.send).length,
  });
  const failingIds = failing().map((e) => ids.get(e.key));
  expect(json.identifications).toMatchObject(expectedCounts());
  expect(json.identifications.rows.map((r: IdentificationFinding) => r.id)).toEqual(failingIds.slice(0, 10));
  expect(json.identifications.next).toEqual(expect.any(String));

  const text = await cli(schema, ['stats', '--since', since]);
  expect(text.code).toBe(0);
  const counts = expectedCounts();
  expect(text.stdout).toContain(
    `Identifications (AI Act Art. 12(3), 14(5)): ${counts.total}, of which ${counts.matches} matches; ${counts.failing} FAIL the check`,
  );
  expect(text.stdout).toMatch(new RegExp(`fewer than two verifiers\\s+${counts.under_verified}\\n`));
  expect(text.stdout).toMatch(new RegExp(`no reference database\\s+${counts.without_reference_database}\\n`));
  expect(text.stdout).toMatch(new RegExp(`match is not true or false\\s+${counts.match_not_boolean}\\n`));
  for (const id of failingIds.slice(0, 10)) expect(text.stdout).toContain(id);
  for (const id of failingIds.slice(10)) expect(text.stdout).not.toContain(id);
  expect(text.stdout).not.toMatch(TERMINAL_ACTS_ON);
  const hint = /the first 10 of 15 are shown; all of them: inferlog (query --failing-identifications .*)$/m.exec(text.stdout);
  expect(hint?.[1]).toBe(`query --failing-identifications --since ${since} --schema ${schema}`);
  const all = await cli(schema, [...hint![1]!.split(' '), '--json', '--limit', '100']);
  expect(all.code).toBe(1);
  expect(JSON.parse(all.stdout).rows.map((r: IdentificationFinding) => r.id)).toEqual(failingIds);

  // Where every identification passes, stats says so and names none.
  const passing = await cli(schema, [
    'stats',
    '--annotation',
    `identification=${JSON.stringify({ reference_database: REFERENCE, match: false })}`,
  ]);
  expect(passing.stdout).toContain('Identifications (AI Act Art. 12(3), 14(5)): 1, of which 0 matches; every one passes');
  // Where there are none, the section is left out.
  const none = (await cli(schema, ['stats', '--model', 'nothing-here'])).stdout;
  expect(none).toMatch(/^no records match\n/);
  expect(none).not.toContain('Identifications');
});

test('inferlog query --failing-identifications pages through them and exits 1 while it lists any, 0 when there are none', async () => {
  const first = await cli(schema, ['query', '--failing-identifications', '--limit', '5']);
  expect(first.code).toBe(1);
  expect(first.stdout.split('\n')[0]).toMatch(/^time\s+id\s+request id\s+model\s+reference database\s+match\s+verifiers\s+problems$/);
  expect(first.stdout).toContain('fewer than two verifiers');
  const next = /next page: --after (\S+)/.exec(first.stdout)![1]!;
  const seen: string[] = [];
  let after: string | undefined;
  do {
    const run = await cli(schema, ['query', '--failing-identifications', '--limit', '5', '--json', ...(after ? ['--after', after] : [])]);
    expect(run.code).toBe(1);
    const page: IdentificationPage = JSON.parse(run.stdout);
    seen.push(...page.rows.map((r) => r.id));
    if (!after) expect(page.next).toBe(next);
    after = page.next ?? undefined;
  } while (after);
  expect(seen).toEqual(failing().map((e) => ids.get(e.key)));

  const none = await cli(schema, ['query', '--failing-identifications', '--until', startedAt.toISOString()]);
  expect(none).toMatchObject({ code: 0, stdout: 'no identification fails the check\n' });
  // Without the flag, query still lists records (and exits 0).
  expect((await cli(schema, ['query', '--limit', '1'])).code).toBe(0);
});

test('show --bundle judges the identification on the events of the export', async () => {
  const out = `${tempDir('ident-export-')}/log.jsonl`;
  const until = new Date(Date.now() + 60_000).toISOString();
  const exported = await cli(schema, ['export', '--since', startedAt.toISOString(), '--until', until, '--out', out]);
  expect(exported.code).toBe(0);
  const fromBundle = JSON.parse((await cli(null, ['show', ids.get('m-same-twice')!, '--bundle', `${out}.manifest.json`, '--json'])).stdout);
  expect(fromBundle.inferences[0].identification).toEqual({
    reference_database: REFERENCE,
    match: true,
    verifiers: ['reviewer-a'],
    required: 2,
    satisfied: false,
    problems: ['fewer_than_two_verifiers'],
  });
  const text = await cli(null, ['show', 'm-2', '--bundle', `${out}.manifest.json`]);
  expect(text.stdout).toContain('  check         passes');
});

test('one person is one verifier however the name is spelt: the key PostgreSQL computes is the one show computes', async () => {
  const spellings = [
    'alice',
    'Alice\u200b',
    ' ALICE ',
    '\uff41\uff4c\uff49\uff43\uff45', // full-width
    'al\u00adice', // a soft hyphen
    'a\u00a0lice', // a no-break space
    'al\u2060ice', // a word joiner
    'a\u{e0061}lice', // a tag character
    '\u2800alice', // the braille blank
    'alic\u00e9', // an accent: "é" is "e" and a combining mark
    'ALI\u0307CE', // "İ" decomposed
    '\u00c9mile',
    '\u00e9mile',
    'e\u0301mile',
    '\u0430lice', // a Cyrillic "а": another script, another person
    'reviewer-\u001b[31mb',
  ];
  const keys = spellings.map(verifierKey);
  expect(new Set(keys.slice(0, 11))).toEqual(new Set(['alice']));
  expect(new Set(keys.slice(11, 14))).toEqual(new Set(['emile']));
  expect(keys[14]).toBe('\u0430lice');
  for (const [i, spelling] of spellings.entries())
    expect((await db.one(`SELECT ${verifierKeySql('$1::text')} AS key`, [spelling])).key).toBe(keys[i]);
});
