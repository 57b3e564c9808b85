// The planted app (fixtures/planted-app.js) as a child process the test drives: its ports, the reports it
// passes on, its stderr, and commands (stats, flush, event, close) whose answers or errors come back.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface Report {
  code: string;
  message: string;
  cause: string | null;
}

export interface Reply {
  ok: boolean;
  value?: unknown;
  error?: string;
  cause?: string | null;
}

export class PlantedApp {
  readonly reports: Report[] = [];
  stderr = '';
  private readonly replies = new Map<number, (reply: Reply) => void>();
  private nextId = 0;

  private constructor(
    private readonly child: ChildProcess,
    readonly ports: { main: number; closed: number },
  ) {}

  static async start(config: Record<string, unknown>): Promise<PlantedApp> {
    const child = fork(join(__dirname, '..', 'fixtures', 'planted-app.js'), [JSON.stringify(config)], {
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const ports = await new Promise<{ main: number; closed: number }>((resolve, reject) => {
      child.on('message', (m: { ready?: { main: number; closed: number } }) => m.ready && resolve(m.ready));
      child.once('exit', (code) => reject(new Error(`planted-app exited (${code}) before it was ready: ${stderr}`)));
    });
    const app = new PlantedApp(child, ports);
    app.stderr = stderr;
    child.stderr!.on('data', (chunk: Buffer) => {
      app.stderr += chunk.toString('utf8');
    });
    child.on('message', (m: { report?: Report; reply?: Reply & { id: number } }) => {
      if (m.report) app.reports.push(m.report);
      if (m.reply) app.replies.get(m.reply.id)?.(m.reply);
    });
    return app;
  }

  url(which: 'main' | 'closed'): string {
    return `http://127.0.0.1:${this.ports[which]}`;
  }

  command(cmd: 'stats' | 'flush' | 'event' | 'close', which: 'main' | 'closed' = 'main', args?: unknown): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.replies.set(id, resolve);
      this.child.send({ id, cmd, which, args });
    });
  }

  async stats(which: 'main' | 'closed' = 'main'): Promise<Record<string, unknown>> {
    return (await this.command('stats', which)).value as Record<string, unknown>;
  }

  /** Closes both loggers and waits for the process to exit. */
  async close(): Promise<Reply> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    const reply = await this.command('close');
    await exited;
    return reply;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
