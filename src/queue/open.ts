import type { Monitor } from '../monitor/monitor.js';
import type { QueueConfig } from './config.js';
import { JobQueue } from './jobs.js';
import { watchQueue } from './watch.js';

/**
 * The job queue of an API process, watched for the monitor's metrics and alerts, or null when
 * `queue.redis.url` is (the job routes then refuse with QUEUE_NOT_CONFIGURED). Its closing is
 * registered in `closers`, the composition root's.
 */
export function openJobQueue(config: QueueConfig, monitor: Monitor, closers: (() => Promise<void> | void)[]): JobQueue | null {
  if (config.redis.url === null) return null;
  const jobs = new JobQueue(config);
  closers.push(() => jobs.close());
  let reported = false;
  const stop = watchQueue(
    jobs,
    config.watchSeconds,
    (reading) => {
      reported = false;
      monitor.observeQueue(reading);
    },
    // A Redis that is down is told once, until it answers again; the job routes answer QUEUE_UNAVAILABLE meanwhile.
    (error) => {
      if (!reported) process.stderr.write(`visionops: the job queue cannot be read (${(error as Error).message}): its metrics are stale until it answers\n`);
      reported = true;
    },
  );
  closers.push(stop);
  return jobs;
}
