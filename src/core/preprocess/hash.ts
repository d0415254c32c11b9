import { canonicalJson } from '../canonical-json.js';
import type { PreprocessSpec } from './spec.js';

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
