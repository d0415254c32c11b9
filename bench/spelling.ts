/**
 * The document pipeline with its spelling pass (pipeline.recognition.spelling, on by default)
 * against the same pipeline with it off, reading the same pages in turn in one process: what the
 * runner-ups in the step summary and the lexicon look-ups cost a page.
 */
import { loadConfig } from '../src/config/load.js';
import { ingestImage } from '../src/image/ingest.js';
import { loadDocumentPipeline } from '../src/pipeline/document.js';
import { documentPages, median, timeInTurn, type Benchmark } from './lib.js';

export const spellingBenchmark: Benchmark = {
  name: 'spelling',
  describe: 'the document pipeline reading pages with spelling on (the default) vs off, the same pages in turn',
  async run({ quick }) {
    const config = loadConfig({ sets: ['runtime.workers=0'] });
    const pages = await Promise.all((await documentPages(quick ? 2 : 8, 7000)).map(async (page) => (await ingestImage(page.bytes, config.ingest)).frame));
    const spelled = await loadDocumentPipeline(config.pipeline, config.runtime);
    const plain = await loadDocumentPipeline({ ...config.pipeline, recognition: { ...config.pipeline.recognition, spelling: null } }, config.runtime);
    try {
      const readAll = (pipeline: typeof plain) => async () => {
        for (const frame of pages) await pipeline.read(frame, { exifOrientation: 1 });
      };
      const samples = await timeInTurn(quick ? 2 : 7, { spelled: readAll(spelled), plain: readAll(plain) });
      const [on, off] = [median(samples.spelled), median(samples.plain)];
      return [
        { name: 'spelling.off_ms', value: off, unit: 'ms', note: `${pages.length} pages, spelling off` },
        { name: 'spelling.on_ms', value: on, unit: 'ms', note: `${pages.length} pages, spelling on` },
        { name: 'spelling.ratio', value: on / off, unit: 'x', note: 'time with spelling / without' },
      ];
    } finally {
      await Promise.all([spelled.close(), plain.close()]);
    }
  },
};
