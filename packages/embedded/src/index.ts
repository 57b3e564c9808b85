import { hostname } from 'node:os';
import { claim, clearDead, markReady, ownerState, releaseLock } from './owner-lock';
import { storePaths, type StorePaths } from './paths';
import { serveStore } from './serve';

export { storePaths, type StorePaths } from './paths';

/** An open embedded store, from this process's side. */
export interface EmbeddedStore {
  /** The PostgreSQL connection string that reaches the store from this process (a Unix socket). */
  readonly connectionString: string;
  /** `owner`: this process runs PGlite and serves the store; `client`: it reaches the store through the process that does. */
  readonly role: 'owner' | 'client';
  /** Gives this use of the store up; the last one in the process stops serving it (owner) or watching its owner (client). */
  release(): Promise<void>;
}

/** How {@link openEmbeddedStore} waits for and watches other processes. */
export interface OpenEmbeddedOptions {
  /** How long to wait for another process that is still starting the store. Default 120,000 ms. */
  startTimeoutMs?: number;
  /** How often a client checks that the owner still runs, to take the store over when it has gone. Default 1,000 ms. */
  watchIntervalMs?: number;
  /** Most connections the owner serves at once. Default 16. */
  maxConnections?: number;
}

const OPTION_KEYS = new Set(['startTimeoutMs', 'watchIntervalMs', 'maxConnections']);

class StoreHandle {
  role: 'owner' | 'client' = 'client';
  users = 0;
  private stopServing: (() => Promise<void>) | null = null;
  private watch: NodeJS.Timeout | null = null;
  private takingOver = false;
  private lastTakeOverError = '';

  constructor(
    readonly paths: StorePaths,
    private readonly options: Required<OpenEmbeddedOptions>,
  ) {}

  async open(): Promise<void> {
    const deadline = Date.now() + this.options.startTimeoutMs;
    for (;;) {
      if (await this.tryToOwn()) return;
      const state = ownerState(this.paths.lockFile);
      if (state.kind === 'dead') {
        clearDead(this.paths.lockFile);
        continue;
      }
      if (state.kind === 'alive') {
        const { owner } = state;
        if (owner.host !== hostname()) {
          throw new Error(
            `inferlog: the embedded store in ${this.paths.dataDir} is owned by process ${owner.pid} on host ${owner.host}, which this host cannot reach: use it from that host, or point DATABASE_URL at a PostgreSQL server`,
          );
        }
        if (owner.ready) {
          this.watchOwner();
          return;
        }
        if (Date.now() > deadline) {
          throw new Error(
            `inferlog: the embedded store in ${this.paths.dataDir} is being opened by process ${owner.pid}, which has not served it within ${this.options.startTimeoutMs} ms: wait for that process, or stop it and try again`,
          );
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Claims the lock and serves the store; false when another process holds the lock. */
  private async tryToOwn(): Promise<boolean> {
    if (!claim(this.paths.lockFile)) return false;
    try {
      this.stopServing = await serveStore(this.paths, this.options.maxConnections);
      markReady(this.paths.lockFile);
    } catch (err) {
      releaseLock(this.paths.lockFile);
      throw err;
    }
    this.role = 'owner';
    if (this.watch) clearInterval(this.watch);
    this.watch = null;
    return true;
  }

  /** As a client: check now and then that the owner runs, and take over (on the same socket) when it has gone. */
  private watchOwner(): void {
    this.role = 'client';
    this.watch = setInterval(() => void this.takeOverIfGone(), this.options.watchIntervalMs);
    this.watch.unref();
  }

  private async takeOverIfGone(): Promise<void> {
    if (this.takingOver) return;
    const state = ownerState(this.paths.lockFile);
    if (state.kind === 'alive') return;
    this.takingOver = true;
    try {
      if (state.kind === 'dead') clearDead(this.paths.lockFile);
      await this.tryToOwn();
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.lastTakeOverError) {
        this.lastTakeOverError = message;
        process.emitWarning(
          `inferlog: the owner of the embedded store in ${this.paths.dataDir} has gone and taking the store over failed (trying again): ${message}`,
          { code: 'INFERLOG_EMBEDDED' },
        );
      }
    } finally {
      this.takingOver = false;
    }
  }

  async close(): Promise<void> {
    if (this.watch) clearInterval(this.watch);
    this.watch = null;
    const stop = this.stopServing;
    this.stopServing = null;
    if (stop) {
      try {
        await stop();
      } finally {
        releaseLock(this.paths.lockFile);
      }
    }
  }
}

const open = new Map<string, Promise<StoreHandle>>();

function resolveOptions(options: OpenEmbeddedOptions): Required<OpenEmbeddedOptions> {
  for (const key of Object.keys(options))
    if (!OPTION_KEYS.has(key)) throw new TypeError(`inferlog: unknown embedded store option "${key}"`);
  return {
    startTimeoutMs: options.startTimeoutMs ?? 120_000,
    watchIntervalMs: options.watchIntervalMs ?? 1000,
    maxConnections: options.maxConnections ?? 16,
  };
}

/**
 * Opens the embedded store in `dataDir`. One process at a time owns a store directory: the first one
 * runs PGlite on it and serves it on a Unix socket; every other process (an app's second instance, the
 * `inferlog` command beside a running app) connects through that socket and, should the owner go away,
 * takes the store over on the same socket, so its connection string stays valid. Calls within one
 * process share one handle.
 */
export async function openEmbeddedStore(dataDir: string, options: OpenEmbeddedOptions = {}): Promise<EmbeddedStore> {
  const paths = storePaths(dataDir);
  let opening = open.get(paths.dataDir);
  if (!opening) {
    const handle = new StoreHandle(paths, resolveOptions(options));
    opening = handle.open().then(() => handle);
    open.set(paths.dataDir, opening);
    opening.catch(() => open.delete(paths.dataDir));
  }
  const handle = await opening;
  handle.users++;
  let released = false;
  return {
    connectionString: paths.connectionString,
    get role() {
      return handle.role;
    },
    release: async () => {
      if (released) return;
      released = true;
      if (--handle.users === 0) {
        open.delete(paths.dataDir);
        await handle.close();
      }
    },
  };
}
