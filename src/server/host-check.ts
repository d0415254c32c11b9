import type { FastifyInstance } from 'fastify';
import { VisionopsError } from '../core/errors.js';
import { parseHost, type HostName } from './access-config.js';

/** Names a client on this machine uses, answered whatever `server.allowedHosts` says. */
const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];
/** Addresses that mean "every interface": no client sends them as a name. */
const EVERY_INTERFACE = new Set(['0.0.0.0', '::', '[::]']);

export interface HostCheckOptions {
  /** `server.host`: the address the server listens on, allowed as a name too. */
  boundHost: string;
  /** `server.allowedHosts`: more names (`host` with any port, or `host:port`). */
  allowedHosts: string[];
}

/**
 * Refuses every request whose Host header names a server other than this one, keys on or off.
 * A page on another site that gets its own name to resolve to 127.0.0.1 (DNS rebinding) is then
 * same-origin to the browser but still sends its own name as the Host, and is refused here.
 */
export function checkHost(app: FastifyInstance, { boundHost, allowedHosts }: HostCheckOptions): void {
  const allowed: HostName[] = [boundHost.includes(':') && !boundHost.startsWith('[') ? `[${boundHost}]` : boundHost, ...LOOPBACK, ...allowedHosts]
    .map(parseHost)
    .filter((name): name is HostName => name !== null);
  if (EVERY_INTERFACE.has(boundHost) && allowedHosts.length === 0) {
    app.log.warn(`listening on ${boundHost} with server.allowedHosts empty: only requests addressed to localhost, 127.0.0.1 or [::1] are answered; add the names clients use`);
  }
  app.addHook('onRequest', async (request) => {
    const sent = request.headers.host;
    const name = sent === undefined ? null : parseHost(sent);
    if (name === null || !allowed.some((entry) => entry.hostname === name.hostname && (entry.port === null || entry.port === name.port))) {
      const shown = sent === undefined ? 'no Host header' : `the Host "${sent.slice(0, 100)}"`;
      throw new VisionopsError(
        'HOST_NOT_ALLOWED',
        `This server does not answer to ${shown}: address it by a name it is configured for, or add the name clients use to server.allowedHosts (see docs/security.md).`,
      );
    }
  });
}
