// Long work (a monitoring run, a verification, an export, a chain check) holds a database connection for
// seconds to minutes, and PostgreSQL keeps running a query whose client has left. A few at a time, so
// that pages always have a connection: one more is refused with a page that says to wait.

/** Thrown when the console is already doing as much long work as it allows. */
export class BusyError extends Error {
  constructor(readonly running: number) {
    super(`the console is already running ${running} long task${running === 1 ? '' : 's'}`);
  }
}

/** At most `max` long tasks at once. */
export interface WorkGate {
  /** Takes a place, or throws `BusyError`; call the function it returns once the work is over. */
  hold(): () => void;
  /** Runs `work` in a place of its own. */
  run<T>(work: () => Promise<T>): Promise<T>;
}

export function workGate(max: number): WorkGate {
  let running = 0;
  const hold = () => {
    if (running >= max) throw new BusyError(running);
    running++;
    let released = false;
    return () => {
      if (!released) running--;
      released = true;
    };
  };
  return {
    hold,
    async run(work) {
      const release = hold();
      try {
        return await work();
      } finally {
        release();
      }
    },
  };
}
