import sharp from 'sharp';
import { writeFile } from 'node:fs/promises';
import { qualityConfigSchema } from '../src/core/quality/config.js';
import { runQualityGate } from '../src/core/quality/gate.js';
import { largeWordCrop, photographedPage, photograph } from '../test/fixtures/captures.js';
import { blurred } from '../test/fixtures/documents.js';
const config = qualityConfigSchema.parse({});
async function gate(name: string, image: Buffer) {
  await writeFile(`/tmp/real/gen/${name}.jpg`, await sharp(image).jpeg().toBuffer());
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const r = runQualityGate({ width: info.width, height: info.height, channels: 3, data: new Uint8Array(data) }, config);
  console.log(name, info.width, info.height, r.verdict, r.checks.map((c) => `${c.name}:${c.verdict}:${c.score.toFixed(3)}${c.name==="resolution"?` L=${c.details?.letterSize?.toFixed(1)}x${c.details?.letters}`:""}${c.name==='blur'?` pitch=${c.details?.linePitch?.toFixed(1)} found=${c.details?.linePitchFound}`:''}${c.name==='exposure'?` paper=${c.details?.paperLevel?.toFixed(0)} ink=${c.details?.inkLevel?.toFixed(0)} hi=${c.details?.highlightFraction?.toFixed(3)} sh=${c.details?.shadowFraction?.toFixed(3)} p=${c.details?.p02?.toFixed(0)},${c.details?.p50?.toFixed(0)},${c.details?.p98?.toFixed(0)}`:''}`).join(' '));
}
await gate('word', await largeWordCrop('EXIT', 320, 180, 96));
for (const d of [0, 80, 100, 260, 45, 170]) await gate(`page${d}`, await photographedPage({ seed: 1, degrees: d, keystone: 0.15 }));
await gate('page80small', await photographedPage({ seed: 2, degrees: 80, keystone: 0.1, bodySize: 14, longSide: 2000 }));
await gate('page80blur', await photographedPage({ seed: 2, degrees: 80, keystone: 0.1, blur: 4 }));
await gate('page0blur', await photographedPage({ seed: 2, degrees: 0, keystone: 0.1, blur: 4 }));
for (const e of [1, 2.2, 0.3]) await gate(`photo${e}`, await photograph(3, e));
await gate('tiny300', await sharp(await (await import('../test/fixtures/documents.js')).renderDocument({ lines: ['Invoice total amount due', 'Order shipped 12345 paid', 'Balance: 2345.67 tax'], fontSize: 32, width: 1200 })).resize(300).png().toBuffer());
