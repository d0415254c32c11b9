import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy to a server (PostgreSQL in the tests) that can make it vanish, the ways a network
 * does: `cut` drops every connection and answers new ones with silence, `stall` keeps connections
 * open but stops passing bytes (held, not lost), `restore` brings the server back.
 */
export class TcpProxy {
  private server: Server | null = null;
  private state: 'up' | 'cut' | 'stall' = 'up';
  private readonly pairs = new Set<{ client: Socket; upstream: Socket | null; held: Array<[Socket, Buffer]> }>();
  /** Connections the client side closed itself, e.g. a pool discarding a connection. */
  closedByClient = 0;
  /** Connections passed through to the server. */
  opened = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<number> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
    return address.port;
  }

  /** Every connection dropped, new ones accepted and never answered. */
  cut(): void {
    this.state = 'cut';
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
  }

  stall(): void {
    this.state = 'stall';
  }

  /** Held bytes flow again; silent connections made while cut are dropped (their clients will have given up). */
  restore(): void {
    const wasCut = this.state === 'cut';
    this.state = 'up';
    for (const pair of this.pairs) {
      if (wasCut && pair.upstream === null) pair.client.destroy();
      for (const [to, bytes] of pair.held.splice(0)) to.write(bytes);
    }
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => (this.server === null ? resolve() : this.server.close(() => resolve())));
  }

  private accept(client: Socket): void {
    const pair = { client, upstream: null as Socket | null, held: [] as Array<[Socket, Buffer]> };
    this.pairs.add(pair);
    client.on('error', () => {});
    client.on('close', () => {
      this.pairs.delete(pair);
      pair.upstream?.destroy();
    });
    client.on('end', () => {
      if (this.state === 'up' || this.state === 'stall') this.closedByClient++;
    });
    if (this.state === 'cut') return;
    const upstream = connect(this.target.port, this.target.host);
    pair.upstream = upstream;
    this.opened++;
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
    const forward = (to: Socket) => (bytes: Buffer) => (this.state === 'up' ? to.write(bytes) : pair.held.push([to, bytes]));
    client.on('data', forward(upstream));
    upstream.on('data', forward(client));
  }
}
