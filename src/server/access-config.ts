import { z } from 'zod';

/** How a request or an entry of `server.allowedHosts` names this server. */
export interface HostName {
  /** Lowercase, IDN as punycode, IPv6 in brackets: as a browser sends it. */
  hostname: string;
  /** The port as written, or null when none was. */
  port: string | null;
}

/** A name clients may address this server by: `host` (any port) or `host:port`, IPv6 in brackets. */
const hostEntry = z.string().transform((entry, context) => {
  if (parseHost(entry) === null) {
    context.addIssue({ code: 'custom', message: `"${entry}" is not a host name with an optional port (visionops.example.com, 10.0.0.5:8080, [::1])` });
    return z.NEVER;
  }
  return entry.toLowerCase();
});

export const allowedHostsSchema = z.array(hostEntry).default([]);

export const rateLimitConfigSchema = z
  .object({
    /** Requests one key (or, without a key, one client address) may make per window; 0 turns the limit off. */
    max: z.number().int().min(0).default(1200),
    windowSeconds: z.number().int().positive().default(60),
  })
  .strict();

export type RateLimitConfig = z.infer<typeof rateLimitConfigSchema>;

/**
 * A Host header or entry read as a browser writes it, or null when it is not one: a path,
 * credentials, or a spelling the URL parser rewrites (`0x7f.1`, `localhost:080`), so that the
 * name checked is the name sent.
 */
export function parseHost(value: string): HostName | null {
  let url: URL;
  try {
    url = new URL(`http://${value}`);
  } catch {
    return null;
  }
  const sent = value.toLowerCase();
  const port = sent.startsWith(`${url.hostname}:`) ? sent.slice(url.hostname.length + 1) : null;
  const readBack = port === null ? url.hostname : `${url.hostname}:${port}`;
  if (readBack !== sent || (port !== null && !/^[1-9]\d{0,4}$/.test(port))) return null;
  return { hostname: url.hostname, port };
}
