import type { FastifyReply } from 'fastify';

/**
 * A Server-Sent Events answer opened on its first event, so that a request refused before
 * anything happened still gets its ordinary status and JSON error. Once open, the reply belongs
 * to this stream (fastify's own sending is bypassed).
 */
export class EventStream {
  private open = false;

  constructor(private readonly reply: FastifyReply) {}

  get opened(): boolean {
    return this.open;
  }

  send(event: string, data: unknown): void {
    const raw = this.reply.raw;
    if (!this.open) {
      this.open = true;
      this.reply.hijack();
      // What hooks set before the stream opened (security and rate-limit headers) still goes out.
      for (const [name, value] of Object.entries(this.reply.getHeaders())) if (value !== undefined) raw.setHeader(name, value);
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        // Proxies such as nginx would otherwise hold the events back until the answer ends.
        'x-accel-buffering': 'no',
      });
    }
    if (raw.writableEnded || raw.destroyed) return;
    raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  end(): void {
    if (this.open && !this.reply.raw.writableEnded) this.reply.raw.end();
  }
}
