/**
 * Per-image latency of the two shipped own-model examples (docs/own-models.md, "Measured"):
 * the model stage alone (preprocessing, onnxruntime, decoding: `pipeline.run` on a decoded frame)
 * and the whole path of POST /v1/predict (decode, gate, model, decision, record; in process
 * through fastify's inject, so no sockets). One image at a time, runtime.workers 0 and one
 * onnxruntime thread, after 5 warm-up runs; median and 90th percentile of 50.
 *
 *     node --import tsx scripts/measure-own-models.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createVisionops } from '../src/app/visionops.js';
import { loadConfig } from '../src/config/load.js';
import { decodeUpright } from '../src/image/decode.js';
import { StageClock } from '../src/pipeline/clock.js';
import { renderDocument } from '../test/fixtures/documents.js';

const RUNS = 50;
const WARM = 5;
const dir = mkdtempSync(join(tmpdir(), 'visionops-measure-own-'));

function summary(times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return `median ${at(0.5).toFixed(2)} ms, p90 ${at(0.9).toFixed(2)} ms`;
}

async function timed(run: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < WARM; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  return times;
}

const page = await renderDocument({ lines: ['Total amount 1250.40 paid'], width: 560, fontSize: 28 });
const line = await sharp(page).trim().extend({ top: 6, bottom: 6, left: 6, right: 6, background: '#ffffff' }).png().toBuffer();
const squares = await sharp(
  Buffer.from('<svg width="640" height="480" xmlns="http://www.w3.org/2000/svg"><rect width="640" height="480" fill="#282828"/><rect x="100" y="100" width="120" height="120" fill="#fff"/><rect x="400" y="200" width="150" height="150" fill="#f00"/></svg>'),
)
  .png()
  .toBuffer();

const config = loadConfig({
  sets: [
    'server.logLevel="silent"',
    `data.dir=${JSON.stringify(join(dir, 'data'))}`,
    'runtime.workers=0',
    'cache.enabled=false',
    'quality.information.minEdgeDensity=0',
    `pipelines=${JSON.stringify([
      { name: 'line-orientation', task: 'classification', manifest: 'examples/line-orientation/manifest.json' },
      { name: 'bright-squares', task: 'detection', manifest: 'examples/bright-squares/manifest.json' },
    ])}`,
  ],
});
const system = await createVisionops(config, { overrides: { lab: [] } });
try {
  const app = await system.server();
  for (const [name, image, size] of [['line-orientation', line, '387 x 40 line'], ['bright-squares', squares, '640 x 480 scene']] as const) {
    const pipeline = system.pipelines.find((p) => p.name === name)!;
    const frame = await decodeUpright(new Uint8Array(image), 'png', 1e8);
    const model = await timed(() => pipeline.run(frame, { exifOrientation: 1, clock: new StageClock(), listener: {} }));
    const post = await timed(async () => {
      const response = await app.inject({ method: 'POST', url: `/v1/predict?pipeline=${name}`, headers: { 'content-type': 'image/png' }, payload: image });
      if (response.statusCode !== 200) throw new Error(response.body);
    });
    process.stdout.write(`${name} (${size}): model stage ${summary(model)}; POST /v1/predict ${summary(post)}\n`);
  }
} finally {
  await system.close();
  rmSync(dir, { recursive: true, force: true });
}
