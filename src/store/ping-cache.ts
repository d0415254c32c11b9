import { isVisionopsError, VisionopsError } from '../core/errors.js';

/**
 * The store's ping, asked at most once every `maxAgeMs` and shared by every caller meanwhile, so
 * that each prediction can check the store before its models run (a prediction that cannot be
 * recorded is refused at once, not after a second of model time) for the cost of one ping a second.
 *
 * @example
 * const storeUp = cachedPing(stores.predictions);
 * await storeUp(); // STORE_UNAVAILABLE when the last ping, under a second old, failed
 */
export function cachedPing(store: { ping(): Promise<void> }, maxAgeMs = 1000): () => Promise<void> {
  let last: { at: number; outcome: Promise<void> } | null = null;
  return () => {
    const now = performance.now();
    if (last === null || now - last.at >= maxAgeMs) {
      const outcome = store.ping().catch((error: unknown) => {
        throw isVisionopsError(error) ? error : new VisionopsError('STORE_UNAVAILABLE', `The prediction store does not answer (${(error as Error).message}): check it, then retry.`, undefined, { cause: error });
      });
      // Callers catch their own copy; this one only keeps the failure from being reported as unhandled.
      outcome.catch(() => undefined);
      last = { at: now, outcome };
    }
    return last.outcome;
  };
}
