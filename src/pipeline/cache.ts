import { z } from 'zod';
import { hammingDistance } from '../core/hash/perceptual.js';
import type { PredictionRecord } from '../core/records/prediction.js';

export const cacheConfigSchema = z
  .object({
    /** Answer an image already seen (same bytes, same pipeline and settings) from memory. */
    enabled: z.boolean().default(true),
    /** Memory the cached answers may take (estimated from their JSON), least recently used dropped first. */
    maxBytes: z.number().int().min(0).default(64 * 1024 * 1024),
    nearDuplicate: z
      .object({
        /**
         * Also answer an image whose perceptual hash is within `maxDistance` bits of a cached one
         * (a re-encoded or rescaled copy): off by default, since a near copy may differ where it matters.
         */
        enabled: z.boolean().default(false),
        maxDistance: z.number().int().min(0).max(64).default(4),
      })
      .strict()
      .prefault({}),
    redis: z
      .object({
        /** A Redis that several visionops processes share answers through (`redis://127.0.0.1:6379`); null keeps answers in this process only. */
        url: z.string().nullable().default(null),
        /** How long Redis keeps an answer. */
        ttlSeconds: z.number().int().positive().default(86_400),
        keyPrefix: z.string().default('visionops:answer:'),
        /** A lookup that takes longer counts as a miss: the cache must never be slower than the work it saves. */
        timeoutMs: z.number().int().positive().default(200),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type CacheConfig = z.infer<typeof cacheConfigSchema>;

/** What a cached answer repeats: everything of the original record but who asked and when. */
export type CachedAnswer = Pick<PredictionRecord, 'id' | 'image' | 'quality' | 'decision' | 'reasons' | 'result' | 'lineage'> & {
  exif: unknown;
};

export type CacheHit = { kind: 'exact' | 'near'; answer: CachedAnswer; distance: number };

interface Entry {
  answer: CachedAnswer;
  scope: string;
  bytes: number;
}

/** JSON's length in UTF-16 code units, two bytes each, plus the map's own bookkeeping. */
function estimateBytes(answer: CachedAnswer): number {
  return JSON.stringify(answer).length * 2 + 256;
}

/**
 * Answers of earlier predictions, keyed by the image's SHA-256 within a scope (the pipeline's
 * version, its models' weights and every setting that changes an answer), least recently used
 * first out once the estimated bytes pass the bound. A Map keeps insertion order: a hit is
 * moved to the end by deleting and setting it again.
 *
 * @example
 * const cache = new ResultCache(64 << 20);
 * cache.put(scope, sha256, answer);
 * cache.exact(scope, sha256)?.answer.id; // the original record
 */
export class ResultCache {
  private readonly entries = new Map<string, Entry>();
  private used = 0;

  constructor(private readonly maxBytes: number) {}

  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.entries.size;
  }

  exact(scope: string, sha256: string): CacheHit | undefined {
    const key = `${scope}/${sha256}`;
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return { kind: 'exact', answer: entry.answer, distance: 0 };
  }

  /** The cached answer in `scope` whose image's perceptual hash is nearest `phash`, if within `maxDistance` bits. */
  near(scope: string, phash: string, maxDistance: number): CacheHit | undefined {
    let best: [string, Entry] | undefined;
    let bestDistance = Infinity;
    for (const [key, entry] of this.entries) {
      if (entry.scope !== scope || entry.answer.image.phash.length !== phash.length) continue;
      const distance = hammingDistance(entry.answer.image.phash, phash);
      if (distance <= maxDistance && distance < bestDistance) {
        best = [key, entry];
        bestDistance = distance;
      }
    }
    if (best === undefined) return undefined;
    this.entries.delete(best[0]);
    this.entries.set(best[0], best[1]);
    return { kind: 'near', answer: best[1].answer, distance: bestDistance };
  }

  put(scope: string, sha256: string, answer: CachedAnswer): void {
    const key = `${scope}/${sha256}`;
    const bytes = estimateBytes(answer);
    const previous = this.entries.get(key);
    if (previous !== undefined) {
      this.entries.delete(key);
      this.used -= previous.bytes;
    }
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { answer, scope, bytes });
    this.used += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.used <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.used -= entry.bytes;
    }
  }
}
