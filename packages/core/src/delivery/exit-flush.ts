/** A logger that may still hold records when the process is about to exit. */
export interface Flushable {
  /** Writes what it holds, then states its completeness one last time. */
  beforeExit(): Promise<void>;
}

// Weak: a logger nobody references any more is not kept alive by this list. One with work left is
// referenced by its own scheduled write.
const live = new Set<WeakRef<Flushable>>();
let hooked = false;

/**
 * Writes what a logger still holds, and its final completeness statement, when the event loop empties (its timers are unref'd, so it never
 * keeps a process alive by itself; the write keeps the process alive until done). Returns the function
 * that forgets the logger again (at close).
 */
export function flushBeforeExit(logger: Flushable): () => void {
  const ref = new WeakRef(logger);
  live.add(ref);
  if (!hooked) {
    hooked = true;
    process.on('beforeExit', () => {
      for (const entry of live) {
        const target = entry.deref();
        if (!target) live.delete(entry);
        else target.beforeExit().catch(() => {});
      }
    });
  }
  return () => live.delete(ref);
}
