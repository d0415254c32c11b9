import { Redis } from 'ioredis';
import type { CacheConfig, CachedAnswer } from './cache.js';

/**
 * Answers shared by every visionops process that points at the same Redis: an image one worker
 * has read is answered by all. A cache only saves work, so a Redis that is down or slow makes a
 * lookup a miss and a write a no-op (each failure told to `onError`), never a failed prediction.
 */
export interface SharedAnswers {
  get(scope: string, sha256: string): Promise<CachedAnswer | null>;
  put(scope: string, sha256: string, answer: CachedAnswer): Promise<void>;
  close(): Promise<void>;
}

/** A Redis that stays down would otherwise report every request: its failures are told once a minute, counted. */
const REPORT_EVERY_MS = 60_000;

/** The shared tier `cache.redis` asks for, or null when it names no server. */
export function openSharedAnswers(config: CacheConfig, onError: (error: Error, failures: number) => void): SharedAnswers | null {
  const { url, ttlSeconds, keyPrefix, timeoutMs } = config.redis;
  if (!config.enabled || url === null) return null;
  const redis = new Redis(url, {
    lazyConnect: true,
    // A lookup waits at most this long, then the image is simply computed.
    commandTimeout: timeoutMs,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  redis.on('error', () => {});
  let connecting: Promise<void> | null = null;
  const connected = () => {
    if (redis.status === 'ready') return Promise.resolve();
    connecting ??= redis.connect().finally(() => {
      connecting = null;
    });
    return connecting;
  };
  const key = (scope: string, sha256: string) => `${keyPrefix}${scope}:${sha256}`;
  let failures = 0;
  let reportedAt = -Infinity;
  const failed = (error: unknown) => {
    failures++;
    const now = performance.now();
    if (now - reportedAt < REPORT_EVERY_MS) return;
    reportedAt = now;
    onError(error instanceof Error ? error : new Error(String(error)), failures);
    failures = 0;
  };

  return {
    async get(scope, sha256) {
      try {
        await connected();
        const text = await redis.get(key(scope, sha256));
        return text === null ? null : (JSON.parse(text) as CachedAnswer);
      } catch (error) {
        failed(error);
        return null;
      }
    },
    async put(scope, sha256, answer) {
      try {
        await connected();
        await redis.set(key(scope, sha256), JSON.stringify(answer), 'EX', ttlSeconds);
      } catch (error) {
        failed(error);
      }
    },
    async close() {
      redis.disconnect();
    },
  };
}
