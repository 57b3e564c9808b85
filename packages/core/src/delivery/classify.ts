// Which write failures are worth retrying (the database is away or busy) and which are about the data
// (retrying the same rows would fail forever, so the batch is split to isolate them).
const DATA_ERROR = /^(22|23|54)|^42804$/;

/** True when PostgreSQL refused the rows themselves (SQLSTATE class 22, 23, 54, or a type mismatch). */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && code.length === 5 && DATA_ERROR.test(code);
}
