import type { Config } from '../config/schema.js';
import { openSharedAnswers, type SharedAnswers } from '../pipeline/shared-answers.js';

/** The shared answer cache for a command; its failures cost speed, not answers, and are said on stderr. */
export function openSharedCache(config: Config): SharedAnswers | null {
  return openSharedAnswers(config.cache, (error, failures) => {
    process.stderr.write(`visionops: the shared answer cache (cache.redis) failed ${failures} time(s), last: ${error.message}; images are computed meanwhile\n`);
  });
}
