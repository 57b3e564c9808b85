import { InferlogConfigError } from '../errors';

/** The embedded store as this process holds it (declared here, so core's types do not need the optional package). */
export interface EmbeddedStoreHandle {
  /** Reaches the store from this process, whichever process owns it. */
  readonly connectionString: string;
  /** Gives this use of the store up. */
  release(): Promise<void>;
}

/** What core uses of @inferlog/embedded (declared here: core's types must not need the optional package). */
interface EmbeddedModule {
  openEmbeddedStore(dataDir: string): Promise<EmbeddedStoreHandle>;
}

const PACKAGE = '@inferlog/embedded';
let warned = false;

/**
 * The optional package that holds the embedded store (PGlite, about 27 MB of WASM), loaded only when the
 * store is chosen, so production installs that log to PostgreSQL never carry it. Throws a config error
 * saying what to install when it is missing.
 */
export function loadEmbedded(): EmbeddedModule {
  try {
    return require(PACKAGE) as EmbeddedModule;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'MODULE_NOT_FOUND' && e.message.includes(PACKAGE)) {
      throw new InferlogConfigError(
        `no database configured and the embedded development store is not installed: set the "database" option or DATABASE_URL to log to PostgreSQL, or install ${PACKAGE} (npm install --save-dev ${PACKAGE}) for development`,
      );
    }
    throw err;
  }
}

/**
 * Opens the embedded store in `dataDir`; the first call in a process warns that it is meant for
 * development, unless `warn: false` (a tool that says so itself).
 */
export async function openEmbedded(dataDir: string, { warn = true }: { warn?: boolean } = {}): Promise<EmbeddedStoreHandle> {
  const { openEmbeddedStore } = loadEmbedded();
  if (warn && !warned) {
    warned = true;
    process.emitWarning(
      `logging to the embedded PGlite store in ${dataDir}, which is meant for development. Set DATABASE_URL or the "database" option to log to PostgreSQL.`,
      { code: 'INFERLOG_EMBEDDED' },
    );
  }
  return openEmbeddedStore(dataDir);
}
