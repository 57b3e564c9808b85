import net from 'node:net';

/**
 * A TCP proxy to PostgreSQL that a test controls: start refusing, cut open connections, accept again;
 * or go silent (connections are accepted and kept open, but nothing passes, as in a partition where
 * packets are dropped) and heal (what was held back passes, as TCP's retransmissions would deliver it).
 */
export class TcpProxy {
  private server: net.Server | null = null;
  /** Milliseconds added to every chunk in both directions (a slow network or database). */
  delayMs = 0;
  /** Writes held back while silent, in order. */
  private held: (() => void)[] | null = null;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  /** A proxy on a free port that is not yet accepting (connections are refused until `accept()`). */
  static async create(databaseUrl: string): Promise<TcpProxy> {
    const url = new URL(databaseUrl);
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    return new TcpProxy(port, { host: url.hostname, port: Number(url.port || 5432) });
  }

  /** The database URL with the proxy in place of the server. */
  url(databaseUrl: string): string {
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  async accept(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      this.forward(client, upstream);
      this.forward(upstream, client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
  }

  private forward(from: net.Socket, to: net.Socket): void {
    from.on('data', (chunk) => {
      const send = () => !to.destroyed && to.write(chunk);
      if (this.held) this.held.push(send);
      else if (this.delayMs === 0) send();
      else setTimeout(send, this.delayMs);
    });
  }

  /** Nothing passes any more, in either direction, on open or new connections; nothing is refused or closed. */
  silence(): void {
    this.held ??= [];
  }

  /** Lets what was held back pass, and everything after it. */
  heal(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const send of held) send();
  }

  /** Stops listening (new connections are refused) and cuts every open connection. */
  async refuse(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}
