/**
 * The edge: the gate on one live frame in Chromium (the capture page's working size) against the
 * same gate in Node on the same pixels, and what the agent sends under `hybrid` against every original.
 */
import sharp from 'sharp';
import type { Frame } from '../src/core/frame.js';
import { qualityConfigSchema } from '../src/core/quality/config.js';
import { runQualityGate } from '../src/core/quality/gate.js';
import { downscaledCopy } from '../src/edge/agent.js';
import { asJpeg, randomLines, renderDocument } from '../test/fixtures/documents.js';
import { launchChromium } from '../test/helpers/browser.js';
import { browserBundle } from '../test/helpers/device-core.js';
import { median, timeInTurn, type Benchmark } from './lib.js';

type CoreGlobal = { visionopsCore: { runQualityGate: typeof runQualityGate; qualityConfigSchema: typeof qualityConfigSchema } };

export const edgeBenchmark: Benchmark = {
  name: 'edge',
  describe: 'gate on an 800 x 600 frame in Chromium vs Node (same pixels); hybrid upload bytes vs the 4032 x 3024 originals',
  async run({ quick }) {
    const rounds = quick ? 3 : 15;
    const page = await renderDocument({ lines: randomLines(7, 12), fontSize: 30, width: 1200 });
    const { data, info } = await sharp(page).resize(800, 600, { fit: 'contain', background: '#fff' }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const frame: Frame = { width: info.width, height: info.height, channels: 4, data: new Uint8Array(data) };
    const config = qualityConfigSchema.parse({});
    const node = median((await timeInTurn(rounds, { node: () => runQualityGate(frame, config) })).node);

    const browser = await launchChromium();
    let chromium: number;
    try {
      const tab = await browser.newPage();
      await tab.addScriptTag({ content: await browserBundle('src/core/device.ts', 'visionopsCore') });
      chromium = await tab.evaluate(
        ({ rgba, width, height, rounds }) => {
          const core = (globalThis as unknown as CoreGlobal).visionopsCore;
          const frame = { width, height, channels: 4 as const, data: Uint8ClampedArray.from(atob(rgba), (c) => c.charCodeAt(0)) };
          const config = core.qualityConfigSchema.parse({});
          core.runQualityGate(frame, config);
          const samples: number[] = [];
          for (let i = 0; i < rounds; i++) {
            const started = performance.now();
            core.runQualityGate(frame, config);
            samples.push(performance.now() - started);
          }
          return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)];
        },
        { rgba: Buffer.from(data).toString('base64'), width: info.width, height: info.height, rounds },
      );
    } finally {
      await browser.close();
    }

    let original = 0;
    let sent = 0;
    for (const seed of quick ? [1] : [1, 2, 3, 4]) {
      const photo = await asJpeg(await sharp(await renderDocument({ lines: randomLines(seed, 30), fontSize: 64, width: 4032 })).resize(4032, 3024, { fit: 'contain', background: '#fff' }).png().toBuffer(), 92);
      original += photo.length;
      sent += (await downscaledCopy(new Uint8Array(photo))).length;
    }
    return [
      { name: 'edge.gate_chromium_ms', value: chromium, unit: 'ms', note: '800 x 600 frame, main thread' },
      { name: 'edge.gate_node_ms', value: node, unit: 'ms' },
      { name: 'edge.chromium_to_node', value: chromium / node, unit: 'x' },
      { name: 'edge.hybrid_sent_share', value: sent / original, unit: 'x', note: `${sent} of ${original} bytes: JPEG q92 4032 x 3024 pages, sent at 1600 px q85` },
    ];
  },
};
