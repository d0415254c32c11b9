import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { VisionopsError } from '../core/errors.js';
import { SCOPES, type AuthConfig, type Scope } from './auth-config.js';

/** Who sent a request and what they may do. */
export interface Principal {
  id: string;
  scopes: ReadonlySet<Scope>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a key needs for this route; a /v1 route that names none needs `admin`. */
    scope?: Scope;
  }
  interface FastifyRequest {
    principal: Principal;
  }
}

/** With no keys configured every request acts as this one. */
const LOCAL: Principal = { id: 'local', scopes: new Set(SCOPES) };
/** With keys configured, a request without one may reach only the routes that need no scope (health, the pages). */
const ANONYMOUS: Principal = { id: 'anonymous', scopes: new Set() };
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const BEARER = /^Bearer\s+(\S+)$/i;

export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * The onRequest hook that guards the API. First, cross-site request forgery: a state-changing
 * request whose Origin is another site (or whose browser says Sec-Fetch-Site: cross-site) is
 * refused, which also protects the key-less localhost setup, where any web page could otherwise
 * post to 127.0.0.1. Then the key: `Authorization: Bearer <key>`, looked up by its SHA-256,
 * must carry the route's scope (`admin` carries every scope). Keys travel in a header, never in a
 * cookie, so a browser never attaches one to a forged request.
 */
export function authHook(config: AuthConfig) {
  const keys = config.keys.map((key) => ({ id: key.id, digest: Buffer.from(key.sha256, 'hex'), scopes: new Set<Scope>(key.scopes) }));
  return async (request: FastifyRequest) => {
    if (!SAFE_METHODS.has(request.method)) refuseForeignOrigin(request);
    const required = request.routeOptions.config.scope ?? (request.url.startsWith('/v1/') ? 'admin' : undefined);
    if (keys.length === 0) {
      request.principal = LOCAL;
      return;
    }
    const presented = BEARER.exec(request.headers.authorization ?? '')?.[1];
    if (presented === undefined) {
      if (required === undefined) {
        request.principal = ANONYMOUS;
        return;
      }
      throw new VisionopsError('UNAUTHORIZED', 'This route needs an API key: send it as "Authorization: Bearer <key>" (visionops key makes one).');
    }
    const digest = Buffer.from(hashKey(presented), 'hex');
    // Every key is compared, in constant time, so the answer's timing tells nothing about near misses.
    let found: (typeof keys)[number] | undefined;
    for (const key of keys) if (timingSafeEqual(key.digest, digest)) found = key;
    if (found === undefined) throw new VisionopsError('UNAUTHORIZED', 'This API key is not known to the server: check it, or ask for one (visionops key).');
    request.principal = { id: found.id, scopes: found.scopes };
    if (required !== undefined && !found.scopes.has(required) && !found.scopes.has('admin')) {
      throw new VisionopsError('FORBIDDEN', `The key "${found.id}" lacks the scope "${required}" this route needs: use a key with it, or add it to the key's scopes in auth.keys.`);
    }
  };
}

function refuseForeignOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  const site = request.headers['sec-fetch-site'];
  const foreign = site === 'cross-site' || (origin !== undefined && !sameHost(origin, request.headers.host));
  if (foreign) {
    throw new VisionopsError(
      'FORBIDDEN',
      `Refused a ${request.method} from ${origin ?? 'another site'}: state-changing requests are accepted only from this server's own pages or from clients that send no Origin (curl, SDKs).`,
    );
  }
}

function sameHost(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
