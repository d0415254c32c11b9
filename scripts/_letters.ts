import sharp from 'sharp';
import { readdirSync } from 'node:fs';
import { toGray } from '../src/core/frame.js';
import { qualityConfigSchema } from '../src/core/quality/config.js';
import { overviewOf } from '../src/core/quality/text-scale.js';
import { measureLetters } from '../src/core/quality/letters.js';
const config = qualityConfigSchema.parse({});
const files = process.argv.slice(2).flatMap((p) => p.endsWith('/') ? readdirSync(p).map((f) => p + f) : [p]);
for (const f of files) {
  const { data, info } = await sharp(f).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const gray = toGray({ width: info.width, height: info.height, channels: 3, data: new Uint8Array(data) });
  const t = performance.now();
  const ov = overviewOf(gray, config.analysis);
  const t2 = performance.now(); const l = measureLetters(ov.plane, ov.scale, ov.edges.backgroundRange); const ms2 = performance.now() - t2;
  console.log(f.split('/').pop(), info.width, info.height, l.count, l.size.toFixed(1), (performance.now() - t).toFixed(0) + "ms", ms2.toFixed(0), ov.edges.backgroundRange);
}
