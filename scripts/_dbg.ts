import sharp from 'sharp';
import { qualityConfigSchema } from '../src/core/quality/config.js';
import { runQualityGate } from '../src/core/quality/gate.js';
const config = qualityConfigSchema.parse({});
for (const f of process.argv.slice(2)) {
  const { data, info } = await sharp(f).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const r = runQualityGate({ width: info.width, height: info.height, channels: 3, data: new Uint8Array(data) }, config);
  console.log(f, JSON.stringify(r.checks.map((c) => [c.name, c.verdict, c.score, c.details])));
}
