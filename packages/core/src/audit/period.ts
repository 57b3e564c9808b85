import { InferlogConfigError } from '../errors';

/**
 * The shortest retention in days or weeks inferlog applies without `force`: AI Act Art. 19(1) and 26(6)
 * require logs to be kept at least six months (unless Union or national law provides otherwise), and six
 * calendar months span up to 184 days (July to December), so a period in days must be at least that to
 * keep six months whichever date it counts back from. In months: 6.
 */
export const RETENTION_FLOOR_DAYS = 184;
const FLOOR_MONTHS = 6;

/** A parsed retention period ("keep the last 6 months"). */
export interface RetentionPeriod {
  /** The period in its short form: `180d`, `26w`, `6mo`, `1y`. */
  label: string;
  /** The oldest instant kept at `now`: rows that started before it may be dropped. Calendar months and years count back in UTC, the day clamped to the month's length (31 Aug − 6mo = 28/29 Feb). */
  cutoff(now: Date): Date;
  /** The fewest days the period can span (6mo: 181, whichever six months). */
  minimumDays: number;
  /** Whether it keeps at least six calendar months back from any date: `6mo`/`1y` or more, or {@link RETENTION_FLOOR_DAYS} days or more. */
  keepsSixMonths: boolean;
}

type Unit = 'd' | 'w' | 'mo' | 'y';

const UNITS: Record<string, Unit> = {
  d: 'd',
  day: 'd',
  days: 'd',
  w: 'w',
  wk: 'w',
  wks: 'w',
  week: 'w',
  weeks: 'w',
  mo: 'mo',
  mos: 'mo',
  mon: 'mo',
  month: 'mo',
  months: 'mo',
  y: 'y',
  yr: 'y',
  yrs: 'y',
  year: 'y',
  years: 'y',
};

const DAY_MS = 86_400_000;
const MAX_DAYS = 100 * 366;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const FORMS =
  "a whole number and a unit: '184d' or '184 days', '27w' or '27 weeks', '6mo' or '6 months' (calendar months), '1y' or '1 year' (calendar years)";

/** `now` minus whole calendar months, in UTC; a day the target month lacks becomes its last day. */
function minusMonths(now: Date, months: number): Date {
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth() - months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(
      year,
      month,
      Math.min(now.getUTCDate(), lastDay),
      now.getUTCHours(),
      now.getUTCMinutes(),
      now.getUTCSeconds(),
      now.getUTCMilliseconds(),
    ),
  );
}

/** The fewest days any `months` consecutive calendar months span (February taken as 28 days). */
function fewestDaysIn(months: number): number {
  const whole = Math.floor(months / 12);
  let fewest = Infinity;
  for (let start = 0; start < 12; start++) {
    let days = 0;
    for (let k = 0; k < months % 12; k++) days += MONTH_DAYS[(start + k) % 12]!;
    fewest = Math.min(fewest, days);
  }
  return whole * 365 + fewest;
}

/**
 * Parses a retention period: `184d`, `27w`, `6mo`, `1y`, or spelled out (`6 months`, `2 years`, `184 days`),
 * case-insensitive. Months and years are calendar months and years (the cutoff is now minus N months),
 * weeks are 7 days. Throws an {@link InferlogConfigError} naming the accepted forms for anything else,
 * including `m` (minutes or months?), fractions, zero and periods over 100 years.
 */
export function parseRetentionPeriod(text: string): RetentionPeriod {
  const match = typeof text === 'string' ? /^\s*(\d{1,6})\s*([a-z]+)\s*$/i.exec(text) : null;
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || !unit) {
    const hint =
      match && /^m(in|ins|inutes?)?$/i.test(match[2]!) ? ` ('${match[2]}' is ambiguous or too short: write 'mo' for months)` : '';
    throw new InferlogConfigError(`retention period ${JSON.stringify(text)} is not understood${hint}: write ${FORMS}`);
  }
  const n = Number(match[1]);
  const label = `${n}${unit}`;
  const minimumDays = unit === 'd' ? n : unit === 'w' ? n * 7 : unit === 'mo' ? fewestDaysIn(n) : n * 365;
  if (n === 0)
    throw new InferlogConfigError(
      `retention period ${JSON.stringify(text)} would keep nothing: write a period of at least one ${unit === 'mo' ? 'month' : unit === 'y' ? 'year' : unit === 'w' ? 'week' : 'day'}`,
    );
  if (minimumDays > MAX_DAYS)
    throw new InferlogConfigError(
      `retention period ${JSON.stringify(text)} is longer than 100 years: to keep everything, do not run retention`,
    );
  const cutoff = (now: Date) => {
    if (unit === 'd' || unit === 'w') return new Date(now.getTime() - minimumDays * DAY_MS);
    return minusMonths(now, unit === 'mo' ? n : n * 12);
  };
  const keepsSixMonths = unit === 'mo' ? n >= FLOOR_MONTHS : unit === 'y' || minimumDays >= RETENTION_FLOOR_DAYS;
  return { label, cutoff, minimumDays, keepsSixMonths };
}
