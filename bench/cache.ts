/** A cache hit against the miss it repeats: the same page's bytes predicted a second time, in the same service. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { createVisionops } from '../src/app/visionops.js';
import { documentPages, median, type Benchmark } from './lib.js';

export const cacheBenchmark: Benchmark = {
  name: 'cache',
  describe: 'service.predict of a page seen before (exact hit) vs its first prediction (miss)',
  async run({ quick }) {
    const pages = (await documentPages(quick ? 2 : 10, 8000)).map((page) => page.bytes);
    const dir = await mkdtemp(join(tmpdir(), 'visionops-bench-'));
    const config = loadConfig({ sets: [`data.dir=${JSON.stringify(dir)}`] });
    // No observers: the hit is measured alone, without the decode observers would ask for.
    const visionops = await createVisionops(config, { scope: 'run', overrides: { observers: [] } });
    const service = visionops.services.get();
    const misses: number[] = [];
    const hits: number[] = [];
    try {
      await service.predict((await documentPages(1, 8100))[0].bytes, {});
      for (const page of pages) {
        let at = performance.now();
        const miss = await service.predict(page, {});
        misses.push(performance.now() - at);
        at = performance.now();
        const hit = await service.predict(page, {});
        hits.push(performance.now() - at);
        if (miss.lineage.cache !== undefined || hit.lineage.cache?.of !== miss.id) throw new Error('the cache did not answer the repeated page');
      }
    } finally {
      await visionops.close();
      await rm(dir, { recursive: true, force: true });
    }
    return [
      { name: 'cache.miss_ms', value: median(misses), unit: 'ms' },
      { name: 'cache.hit_ms', value: median(hits), unit: 'ms', note: 'SHA-256 of the bytes, the lookup, a new record saved' },
      { name: 'cache.speedup', value: median(misses) / median(hits), unit: 'x', target: 100 },
    ];
  },
};
