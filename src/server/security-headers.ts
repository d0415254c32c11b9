import type { FastifyInstance } from 'fastify';

/**
 * What the built pages (dist/web) load, and nothing more: their scripts and stylesheets from this
 * server (no inline script or style: each page's CSS is a file of its own); data: images (the
 * dashboard's cluster thumbnails) and blob: images (the review page's image and line crops);
 * fetches to this server only. No site may frame a page (clickjacking).
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  // WebAssembly compiled from this server's own files (the capture page's onnxruntime-web); still no eval of script.
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
} as const;

/**
 * Every answer, pages, assets, JSON and errors alike, carries the same headers: a JSON or image
 * answer never runs anything, so the page policy costs it nothing, and one rule cannot miss a
 * route. Set as the request arrives, so refusals by later hooks and streamed answers carry them.
 */
export function sendSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(HEADERS);
  });
}
