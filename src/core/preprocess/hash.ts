import type { PreprocessSpec } from './spec.js';

/**
 * JSON with object keys sorted at every level and no whitespace, so two specs that hold the same
 * values hash the same whatever order their keys were written in. Arrays keep their order (the
 * order of mean and std is meaningful); undefined fields are left out, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Lowercase hex SHA-256 of a string's UTF-8 bytes, with the Web Crypto API browsers and Node share. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * The preprocessing version recorded in every result's lineage: SHA-256 of the spec's canonical
 * JSON. Any change to any field gives a new hash; reordering keys does not.
 */
export function preprocessHash(spec: PreprocessSpec): Promise<string> {
  return sha256Hex(canonicalJson(spec));
}
