import type { JobQueue, QueueFigures } from './jobs.js';

/** The queue's figures with the rate images were recorded since the previous reading. */
export interface QueueReading extends QueueFigures {
  /** Images recorded per second, by all workers, between the last two readings; null on the first. */
  perSecond: number | null;
}

/**
 * Reads the queue every `seconds` (depth by state, oldest waiting item, images recorded by every
 * worker) and hands each reading on: the API process's metrics and alert rules. A Redis that does
 * not answer skips a reading, told to `onError`.
 */
export function watchQueue(jobs: JobQueue, seconds: number, onReading: (reading: QueueReading) => void, onError: (error: unknown) => void): () => void {
  let previous: { at: number; processed: number } | null = null;
  let reading = false;
  const read = async () => {
    if (reading) return;
    reading = true;
    try {
      const at = Date.now();
      const figures = await jobs.figures(at);
      const perSecond = previous === null || at <= previous.at ? null : Math.max(0, figures.processedTotal - previous.processed) / ((at - previous.at) / 1000);
      previous = { at, processed: figures.processedTotal };
      onReading({ ...figures, perSecond });
    } catch (error) {
      onError(error);
    } finally {
      reading = false;
    }
  };
  void read();
  const timer = setInterval(() => void read(), seconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
