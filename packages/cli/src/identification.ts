import type { IdentificationFinding, IdentificationProblem, IdentificationView, RecordFilter } from '@inferlog/core/audit';
import { count, fit, type Column } from './output';

/** What each problem of an identification means, for people (AI Act Art. 12(3), 14(5)). */
export const PROBLEM_TEXT: Readonly<Record<IdentificationProblem, string>> = {
  match_not_boolean: 'match is not true or false',
  no_reference_database: 'no reference database',
  fewer_than_two_verifiers: 'fewer than two verifiers',
};

const problems = (list: readonly IdentificationProblem[]) => list.map((p) => PROBLEM_TEXT[p]).join('; ');

/** `yes`, `no`, or what to say when the match is not a boolean. */
const matchText = (match: boolean | null) => (match === null ? 'not recorded as true or false' : match ? 'yes' : 'no');

/** The lines of `show`'s Identification section (field labels padded as `show` pads them). */
export function identificationLines(view: IdentificationView): string[] {
  const verifiers = view.verifiers.length ? view.verifiers.map((v) => fit(v, 200)).join(', ') : 'none';
  return [
    `${'reference db'.padEnd(14)}${view.reference_database === null ? 'NOT RECORDED' : fit(view.reference_database, 2000)}`,
    `${'match'.padEnd(14)}${matchText(view.match)}`,
    `${'verifiers'.padEnd(14)}${verifiers}  (${view.verifiers.length} distinct; a match needs ${view.required})`,
    `${'check'.padEnd(14)}${view.satisfied ? 'passes' : `FAILS: ${problems(view.problems)}`}`,
  ];
}

/** The columns `stats` and `query --failing-identifications` print for a failing identification. */
export const FINDING_COLUMNS: readonly Column<IdentificationFinding>[] = [
  { header: 'time', value: (r) => r.started_at, max: 24 },
  { header: 'id', value: (r) => r.id, max: 36 },
  { header: 'request id', value: (r) => r.request_id, max: 26 },
  { header: 'model', value: (r) => r.model_name ?? '-', max: 20 },
  { header: 'reference database', value: (r) => r.reference_database ?? '-', max: 30 },
  { header: 'match', value: (r) => (r.match === null ? '?' : r.match ? 'yes' : 'no'), max: 5 },
  {
    header: 'verifiers',
    value: (r) => (r.verifier_count === 0 ? 'none' : `${count(r.verifier_count)}: ${r.verifiers.join(', ')}`),
    max: 30,
  },
  { header: 'problems', value: (r) => problems(r.problems), max: 80 },
];

/** A word a shell takes as it is, else the text in single quotes. */
function shellWord(text: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/** Whether `--annotation` would read this text as JSON (`3`, `true`) rather than as the text itself. */
function readsAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The filter as the command-line options that select the same records (instants as ISO 8601, so a rerun reads the same range). */
export function filterArgs(filter: RecordFilter): string {
  const args: string[] = [];
  if (filter.since) args.push('--since', filter.since.toISOString());
  if (filter.until) args.push('--until', filter.until.toISOString());
  for (const [key, option] of [
    ['model', '--model'],
    ['version', '--version'],
    ['route', '--route'],
    ['protocol', '--protocol'],
  ] as const)
    if (filter[key] !== undefined) args.push(option, filter[key]);
  if (filter.status?.length) args.push('--status', filter.status.join(','));
  for (const { key, value } of filter.annotations ?? [])
    args.push('--annotation', `${key}=${typeof value === 'string' && !readsAsJson(value) ? value : JSON.stringify(value)}`);
  return args.map(shellWord).join(' ');
}
