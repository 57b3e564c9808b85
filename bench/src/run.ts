// `pnpm bench`: every benchmark, baselines run side by side in the same run (this machine is noisy:
// compare ratios, not absolute numbers). Prints a table and writes bench/results/latest.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { pgp } from '@inferlog/core/audit';
import { httpRun, type HttpLoad, type HttpRun } from './http';
import { hotPath } from './hot-path';
import { jsonParse } from './json-parse';
import { detectionMicros, hmacMicros, recordBuild, ruleCompileMicros } from './record-build';
import { median, writerThroughput } from './writer';
import type { Framework, Mode } from './server';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 50;
/** The fixed request rate of the CPU-per-request runs: well below saturation, so the figure does not depend on how busy the machine is. */
const RATE = Number(process.env.BENCH_RATE ?? 1500);
const RATE_SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 10);
const FRAMEWORKS: Framework[] = ['express', 'koa'];
/** express-winston exists for Express only. */
const modesOf = (framework: Framework): Mode[] =>
  framework === 'express' ? ['bare', 'pino', 'winston', 'pgp', 'inferlog'] : ['bare', 'pino', 'pgp', 'inferlog'];
const MODE_LABEL: Record<Mode, string> = {
  bare: 'bare',
  pino: 'pino-http → /dev/null',
  winston: 'express-winston, both bodies → /dev/null',
  pgp: 'INSERT per request (pg-promise)',
  inferlog: 'inferlog',
};
/** `BENCH_ONLY=record,hot` runs only those sections (rate, http, pinned, large, writer, hot, record, json); default all. */
const ONLY = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const want = (section: string) => !ONLY || ONLY.includes(section);

const oipBody = (floats: number) =>
  JSON.stringify({
    id: 'bench',
    inputs: [
      {
        name: 'x',
        shape: [1, floats],
        datatype: 'FP32',
        data: Array.from({ length: floats }, (_, i) => Math.round(Math.sin(i) * 1e6) / 1e6),
      },
    ],
  });
const bodyOfSize = (bytes: number) => oipBody(Math.floor(bytes / 10));

const db = pgp({ connectionString: DATABASE_URL, max: 1 });
let schemaCounter = 0;

/** Runs the modes alternately, `rounds` times, verifying after each inferlog run that every completed request has its row. */
async function compare(
  framework: Framework,
  modes: Mode[],
  body: string,
  load: HttpLoad,
  rounds: number,
): Promise<Record<Mode, HttpRun[]>> {
  const runs = Object.fromEntries(modes.map((m) => [m, [] as HttpRun[]])) as Record<Mode, HttpRun[]>;
  for (let round = 0; round < rounds; round++) {
    for (const mode of modes) {
      const schema = `bench_http_${process.pid}_${schemaCounter++}`;
      const run = await httpRun(DATABASE_URL, framework, mode, schema, body, load);
      if (mode === 'pgp') await db.none('DROP SCHEMA $1:name CASCADE', [schema]);
      if (mode === 'inferlog') {
        // Rows of finished responses (not those cut when the run stopped): each finished response is stored,
        // or counted as dropped when the queue was full; nothing vanishes silently.
        const rows = (await db.one('SELECT count(*)::int AS n FROM $1:name.inference_log WHERE NOT aborted', [schema])).n as number;
        await db.none('DROP SCHEMA $1:name CASCADE', [schema]);
        const dropped = run.dropped ?? 0;
        run.stored = rows;
        if (dropped > 0 || rows !== run.finished) {
          throw new Error(
            `${framework} inferlog run: the server finished ${run.finished} responses but ${rows} rows are stored and ${dropped} were counted as dropped`,
          );
        }
      }
      runs[mode].push(run);
      process.stderr.write(
        `  ${framework} ${mode} ${run.bodyBytes}B${load.rate ? ` @${load.rate}/s` : ''}${load.pinned ? ' pinned' : ''}: ${Math.round(run.requestsPerSec)} req/s, p99 ${run.p99} ms, main ${run.cpu.main.toFixed(0)} µs, process ${run.cpu.process.toFixed(0)} µs, postgres ${run.cpu.postgres.toFixed(0)} µs per request\n`,
      );
    }
  }
  return runs;
}

function summary(runs: HttpRun[]) {
  return {
    requestsPerSec: Math.round(median(runs.map((r) => r.requestsPerSec))),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    peakRssMiB: Math.max(...runs.map((r) => r.peakRssMiB)),
    completed: runs.reduce((sum, r) => sum + r.finished, 0),
    dropped: runs.reduce((sum, r) => sum + (r.dropped ?? 0), 0),
    finished: runs.reduce((sum, r) => sum + r.finished, 0),
    stored: runs.reduce((sum, r) => sum + (r.stored ?? 0), 0),
    mainMicros: Math.round(median(runs.map((r) => r.cpu.main))),
    processMicros: Math.round(median(runs.map((r) => r.cpu.process))),
    postgresMicros: Math.round(median(runs.map((r) => r.cpu.postgres))),
  };
}

const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;

async function main(): Promise<void> {
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
    node: process.version,
    settings: { seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS, rate: RATE, rateSeconds: RATE_SECONDS },
  };
  const lines: string[] = [];

  if (want('rate')) {
    process.stderr.write(`CPU per request at a fixed ${RATE} requests/s (16-float OIP v2 inference)…\n`);
    const rate: Record<string, unknown> = {};
    lines.push(
      `## CPU per request at a fixed ${RATE} requests/s: OIP v2 inference, 16 floats, median of ${ROUNDS} alternating rounds of ${RATE_SECONDS} s`,
      '',
      'Read from /proc around each run: the server\'s main thread (its event loop), the whole server process (every thread), and every PostgreSQL process; "added" is over bare in the same run.',
      '',
      '| framework | run | main thread µs/req | added | process µs/req | added | PostgreSQL µs/req | p99 ms | p99 vs bare |',
      '|---|---|---|---|---|---|---|---|---|',
    );
    for (const framework of FRAMEWORKS) {
      const modes = modesOf(framework);
      const runs = await compare(framework, modes, oipBody(16), { seconds: RATE_SECONDS, connections: CONNECTIONS, rate: RATE }, ROUNDS);
      const s = Object.fromEntries(modes.map((m) => [m, summary(runs[m])])) as Record<Mode, ReturnType<typeof summary>>;
      const added = (m: Mode) => ({
        main: s[m].mainMicros - s.bare.mainMicros,
        process: s[m].processMicros - s.bare.processMicros,
      });
      rate[framework] = {
        ...s,
        added: Object.fromEntries(modes.map((m) => [m, added(m)])),
        ratios: {
          mainAddedVsPino: ratio(added('inferlog').main, added('pino').main),
          processAddedVsPino: ratio(added('inferlog').process, added('pino').process),
          p99VsBare: ratio(s.inferlog.p99, s.bare.p99),
        },
      };
      for (const m of modes) {
        const a = added(m);
        lines.push(
          `| ${framework} | ${MODE_LABEL[m]} | ${s[m].mainMicros} | ${m === 'bare' ? '–' : `+${a.main}`} | ${s[m].processMicros} | ${m === 'bare' ? '–' : `+${a.process}`} | ${s[m].postgresMicros} | ${s[m].p99} | ${ratio(s[m].p99, s.bare.p99)} |`,
        );
      }
    }
    results.fixedRate = rate;
  }

  for (const pinned of [false, true]) {
    if (!want(pinned ? 'pinned' : 'http')) continue;
    const how = pinned ? 'server pinned to core 0, load generator and PostgreSQL to core 1' : 'unpinned';
    process.stderr.write(`Saturated HTTP throughput, ${how}…\n`);
    const http: Record<string, unknown> = {};
    lines.push(
      '',
      `## Saturated throughput (${how}): OIP v2 inference, 16 floats, ${CONNECTIONS} connections, median of ${ROUNDS} alternating rounds`,
      '',
      '| framework | run | req/s | p50 ms | p99 ms | req/s vs bare | req/s vs pino-http | p99 vs bare |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const framework of FRAMEWORKS) {
      const modes = modesOf(framework);
      const runs = await compare(framework, modes, oipBody(16), { seconds: SECONDS, connections: CONNECTIONS, pinned }, ROUNDS);
      const s = Object.fromEntries(modes.map((m) => [m, summary(runs[m])])) as Record<Mode, ReturnType<typeof summary>>;
      http[framework] = {
        ...s,
        ratios: {
          inferlogVsBare: ratio(s.inferlog.requestsPerSec, s.bare.requestsPerSec),
          inferlogVsPino: ratio(s.inferlog.requestsPerSec, s.pino.requestsPerSec),
          pinoVsBare: ratio(s.pino.requestsPerSec, s.bare.requestsPerSec),
          p99VsBare: ratio(s.inferlog.p99, s.bare.p99),
        },
      };
      for (const m of modes) {
        lines.push(
          `| ${framework} | ${MODE_LABEL[m]} | ${s[m].requestsPerSec} | ${s[m].p50} | ${s[m].p99} | ${ratio(s[m].requestsPerSec, s.bare.requestsPerSec)} | ${ratio(s[m].requestsPerSec, s.pino.requestsPerSec)} | ${ratio(s[m].p99, s.bare.p99)} |`,
        );
      }
    }
    lines.push(
      '',
      `Every inferlog run was checked: rows stored = responses the server finished (${FRAMEWORKS.map((f) => `${f}: ${(http[f] as { inferlog: { completed: number } }).inferlog.completed}`).join(', ')}).`,
    );
    results[pinned ? 'saturatedPinned' : 'saturated'] = http;
  }

  if (want('large')) {
    process.stderr.write('Large payloads…\n');
    const large: Record<string, unknown> = {};
    lines.push(
      '',
      '## Large request bodies (Express, 10 connections)',
      '',
      '| body | bare req/s | inferlog req/s | ratio | bare peak RSS MiB | inferlog peak RSS MiB | responses finished | rows stored | rows dropped (queue full) |',
      '|---|---|---|---|---|---|---|---|---|',
    );
    for (const [label, bytes] of [
      ['256 KiB', 256 * 1024],
      ['4 MiB', 4 * 1024 * 1024],
    ] as const) {
      const runs = await compare(
        'express',
        ['bare', 'inferlog'],
        bodyOfSize(bytes),
        { seconds: SECONDS, connections: 10 },
        Math.max(1, ROUNDS - 1),
      );
      const s = { bare: summary(runs.bare), inferlog: summary(runs.inferlog) };
      large[label] = { ...s, ratio: ratio(s.inferlog.requestsPerSec, s.bare.requestsPerSec) };
      lines.push(
        `| ${label} | ${s.bare.requestsPerSec} | ${s.inferlog.requestsPerSec} | ${ratio(s.inferlog.requestsPerSec, s.bare.requestsPerSec)} | ${s.bare.peakRssMiB} | ${s.inferlog.peakRssMiB} | ${s.inferlog.finished} | ${s.inferlog.stored} | ${s.inferlog.dropped} |`,
      );
    }
    results.largePayloads = large;
  }

  if (want('writer')) {
    process.stderr.write('Writer throughput…\n');
    const count = Number(process.env.BENCH_WRITER_ROWS ?? 20_000);
    const { results: writer, signing } = await writerThroughput(DATABASE_URL, count, ROUNDS);
    const copy = writer.find((w) => w.method === 'COPY')!.recordsPerSec;
    lines.push(
      '',
      `## Writer throughput (${count} OIP records, batches of ${signing.batchRows} (the default \`batch.maxRows\`), median of ${ROUNDS})`,
      '',
      '| method | records/s | vs COPY |',
      '|---|---|---|',
    );
    for (const w of writer) lines.push(`| ${w.method} | ${w.recordsPerSec} | ${ratio(w.recordsPerSec, copy)} |`);
    lines.push(
      '',
      `Signed chain heads: one Ed25519 signature ${signing.signMicros.toFixed(1)} µs; one head move ${signing.signed.toFixed(0)} µs signed (token checked by the trigger) vs ${signing.unsigned.toFixed(0)} µs unsigned: ${signing.perBatchMicros.toFixed(0)} µs more per batch of ${signing.batchRows}, ${signing.perRecordMicros.toFixed(2)} µs per record.`,
    );
    results.writer = writer;
    results.headSigning = signing;
  }

  if (want('hot')) {
    process.stderr.write('Hot path…\n');
    const hot = await hotPath(50_000, 5);
    lines.push('', '## Hot path (Express middleware, synchronous CPU per request)', '', '| request | µs |', '|---|---|');
    lines.push(
      `| selected (capture set-up) | ${hot.selectedMicros.toFixed(2)} |`,
      `| unselected (route match only) | ${hot.unselectedMicros.toFixed(2)} |`,
    );
    results.hotPath = hot;
  }

  if (want('record')) {
    process.stderr.write('Record building per protocol…\n');
    const build = recordBuild(Number(process.env.BENCH_RECORD_ITERATIONS ?? 20_000), 5);
    const compile = ruleCompileMicros(200);
    const hmac = hmacMicros(100_000);
    lines.push(
      '',
      '## Record building (flush path, CPU per record): mapped by its protocol vs the same bytes stored raw, and mapped + redacted',
      '',
    );
    lines.push(
      `Redaction rules: an identifier tensor hashed, two JSONPaths masked (none present in these payloads), five detectors (email, phone, iban, bsn, creditcard) over every text; compiled once at start in ${compile.toFixed(0)} µs. Each value the \`hash\` action pseudonymises costs ${hmac.toFixed(2)} µs more (one HMAC-SHA-256).`,
      '',
    );
    lines.push(
      '| payload | bytes | raw µs | mapped µs | mapped vs raw | mapped + redacted µs | redaction µs per record |',
      '|---|---|---|---|---|---|---|',
    );
    for (const b of build)
      lines.push(
        `| ${b.label} | ${b.bytes} | ${b.rawMicros.toFixed(1)} | ${b.mappedMicros.toFixed(1)} | ${ratio(b.mappedMicros, b.rawMicros)} | ${b.redactedMicros.toFixed(1)} | ${(b.redactedMicros - b.mappedMicros).toFixed(1)} |`,
      );
    const detection = detectionMicros(5_000, 5);
    lines.push(
      '',
      'The detectors search a normalised view of each text (NFKC, invisible characters out, every Unicode space a separator); plain ASCII costs one test, other text a look per character, and a map back only where one changes:',
      '',
      '| one text of the record | bytes | five detectors, µs |',
      '|---|---|---|',
    );
    for (const d of detection) lines.push(`| ${d.label} | ${d.bytes} | ${d.micros.toFixed(1)} |`);
    results.recordBuild = { payloads: build, ruleCompileMicros: compile, hmacMicrosPerValue: hmac, detection };
  }

  if (want('json')) {
    process.stderr.write('JSON parsing, exact integers…\n');
    const parsed = jsonParse(ROUNDS * 3);
    lines.push('', '## JSON parsing (flush path, CPU per body): JSON.parse vs parseJsonExact (integers beyond 2^53 kept exact)', '');
    lines.push('| body | bytes | JSON.parse µs | exact µs | ratio |', '|---|---|---|---|---|');
    for (const p of parsed)
      lines.push(
        `| ${p.label} | ${p.bytes} | ${p.jsonParseMicros.toFixed(2)} | ${p.exactMicros.toFixed(2)} | ${ratio(p.exactMicros, p.jsonParseMicros)} |`,
      );
    results.jsonParse = parsed;
  }

  await db.$pool.end();
  const out = join(__dirname, '..', 'results');
  mkdirSync(out, { recursive: true });
  if (!ONLY) {
    writeFileSync(join(out, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(join(out, 'latest.md'), `${lines.join('\n')}\n`);
  }
  console.log(lines.join('\n'));
  console.log(ONLY ? `\n(BENCH_ONLY: results not written)` : `\nwritten to bench/results/latest.json and latest.md`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
