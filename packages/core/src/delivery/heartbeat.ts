import { promises as fs } from 'node:fs';

/**
 * Keeps files this process owns looking alive: their modification time is set to now every
 * `intervalMs`. Another process takes a spill journal over only when nobody has touched it for a
 * while, which works whatever the host, container or pid namespace of the processes sharing the
 * directory (a pid check does not: containers all run as pid 1, and a pid says nothing across hosts).
 */
export class Heartbeat {
  private readonly paths = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private beating = false;

  constructor(
    private readonly intervalMs: number,
    private readonly onError: (err: unknown, path: string) => void,
  ) {}

  /** Whether this process keeps `path` alive (its own journal, or one it claimed). */
  owns(path: string): boolean {
    return this.paths.has(path);
  }

  /** Starts keeping `path` alive, touching it now. */
  async keep(path: string): Promise<void> {
    this.paths.add(path);
    await this.touch(path);
    this.timer ??= setInterval(() => void this.beat(), this.intervalMs).unref();
  }

  release(path: string): void {
    this.paths.delete(path);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.paths.clear();
  }

  private async beat(): Promise<void> {
    // One round at a time: with many files a round can outlast the interval.
    if (this.beating) return;
    this.beating = true;
    try {
      for (const path of this.paths) await this.touch(path);
    } finally {
      this.beating = false;
    }
  }

  private async touch(path: string): Promise<void> {
    const now = new Date();
    try {
      await fs.utimes(path, now, now);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.paths.delete(path);
      else this.onError(err, path);
    }
  }
}
