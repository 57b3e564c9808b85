import pgPromise from 'pg-promise';

/** The one pg-promise instance of the process (pg-promise wants a single instance). */
export const pgp = pgPromise({ noWarnings: true });
export type Database = ReturnType<typeof pgp>;
