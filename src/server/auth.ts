import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { VisionopsError } from '../core/errors.js';
import { SCOPES, type AuthConfig, type Scope } from './auth-config.js';

/** Who sent a request and what they may do. */
export interface Principal {
  id: string;
  scopes: ReadonlySet<Scope>;
}

/** What a route asks of a request: a key with this scope, or nothing (`public`: health, the pages and their assets). */
export type RouteAccess = Scope | 'public';

/** A route as registered, with the access it declared (`undefined`: none, so it needs `admin`). */
export interface RouteEntry {
  method: string;
  url: string;
  access: RouteAccess | undefined;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What a request needs to reach this route; a route that declares nothing needs `admin`. */
    scope?: RouteAccess;
  }
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyInstance {
    /** Every route registered after `guardRoutes`, HEAD twins included, with the access it declared. */
    routeTable(): RouteEntry[];
  }
}

/** With no keys configured every request acts as this one. */
const LOCAL: Principal = { id: 'local', scopes: new Set(SCOPES) };
/** With keys configured, a request without one may reach only the routes that need no scope (health, the pages). */
const ANONYMOUS: Principal = { id: 'anonymous', scopes: new Set() };

/** Whether the request proved itself with a key, rather than acting as `local` or `anonymous`. */
export function holdsKey(principal: Principal | null): principal is Principal {
  return principal !== null && principal !== LOCAL && principal !== ANONYMOUS;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const BEARER = /^Bearer\s+(\S+)$/i;

export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Guards every route registered after it: records the route table (`app.routeTable()`) and adds
 * the access hook. Call it before registering any route.
 */
export function guardRoutes(app: FastifyInstance, config: AuthConfig): void {
  const routes: RouteOptions[] = [];
  // The options objects themselves: a plugin's own onRoute hook (the pages) may still mark them after this one runs.
  app.addHook('onRoute', (route) => void routes.push(route));
  app.decorate('routeTable', () =>
    routes.flatMap((route) => [route.method].flat().map((method) => ({ method, url: route.url, access: route.config?.scope }))),
  );
  app.addHook('onReady', async () => {
    const undeclared = app.routeTable().filter((route) => route.access === undefined);
    if (undeclared.length > 0) {
      app.log.warn({ routes: undeclared.map((route) => `${route.method} ${route.url}`) }, 'routes that declare no scope need the admin scope: declare one, or public');
    }
  });
  app.decorateRequest('principal', null as never);
  app.addHook('onRequest', authHook(config));
}

/**
 * The onRequest hook that guards the API. First, cross-site request forgery: a state-changing
 * request whose Origin is another site (or whose browser says Sec-Fetch-Site: cross-site) is
 * refused, which also protects the key-less localhost setup, where any web page could otherwise
 * post to 127.0.0.1. Then the key: `Authorization: Bearer <key>`, looked up by its SHA-256,
 * must carry the scope the matched route declares (`admin` carries every scope; a route that
 * declares none needs it). The scope is read from the route fastify matched, never from the URL,
 * which has many spellings (`/%76%31/alerts` is `/v1/alerts`); a path no route matches is a 404
 * for everyone, key or not. Keys travel in a header, never in a cookie, so a browser never
 * attaches one to a forged request.
 */
export function authHook(config: AuthConfig) {
  const keys = config.keys.map((key) => ({ id: key.id, digest: Buffer.from(key.sha256, 'hex'), scopes: new Set<Scope>(key.scopes) }));
  return async (request: FastifyRequest) => {
    if (!SAFE_METHODS.has(request.method)) refuseForeignOrigin(request);
    if (keys.length === 0) {
      request.principal = LOCAL;
      return;
    }
    if (request.is404) {
      request.principal = ANONYMOUS;
      return;
    }
    const access = request.routeOptions.config.scope ?? 'admin';
    const presented = BEARER.exec(request.headers.authorization ?? '')?.[1];
    if (presented === undefined) {
      if (access === 'public') {
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
    if (access !== 'public' && !found.scopes.has(access) && !found.scopes.has('admin')) {
      throw new VisionopsError('FORBIDDEN', `The key "${found.id}" lacks the scope "${access}" this route needs: use a key with it, or add it to the key's scopes in auth.keys.`);
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
