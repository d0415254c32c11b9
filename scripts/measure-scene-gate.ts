/**
 * Measures the scene gate on generated scenes (test/fixtures/scenes.ts) and their blurred and
 * badly exposed variants, and prints the table docs/quality-gate.md's scene thresholds come from.
 *
 *   node --import tsx scripts/measure-scene-gate.ts
 *   GATE_CONFIG='{"sharpness":{"failBelow":0.1}}' node --import tsx scripts/measure-scene-gate.ts
 */
import sharp from 'sharp';
import { runSceneGate } from '../src/core/quality/scene-gate.js';
import { sceneQualityConfigSchema } from '../src/core/quality/scene-config.js';
import { blurred, exposed } from '../test/fixtures/documents.js';
import { variedScenes } from '../test/fixtures/scenes.js';

const config = sceneQualityConfigSchema.parse(JSON.parse(process.env.GATE_CONFIG ?? '{}'));

async function judge(image: Buffer) {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return runSceneGate({ width: info.width, height: info.height, channels: 3, data }, config);
}

const VARIANTS: [string, (image: Buffer) => Promise<Buffer>][] = [
  ['as shot', async (image) => image],
  ['blur 1.5', (image) => blurred(image, 1.5)],
  ['blur 3', (image) => blurred(image, 3)],
  ['blur 6', (image) => blurred(image, 6)],
  ['2 stops over', (image) => exposed(image, 4)],
  ['3 stops under', (image) => exposed(image, 0.125)],
  ['5 stops under', (image) => exposed(image, 0.03)],
];

console.log('| scene | variant | verdict | sharpness | clipped | p98 | info share |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const { name, image } of await variedScenes()) {
  for (const [variant, make] of VARIANTS) {
    const report = await judge(await make(image));
    const check = (n: string) => report.checks.find((c) => c.name === n);
    const exposure = check('exposure')?.details ?? {};
    const row = [name, variant, `${report.verdict}${report.verdict === 'pass' ? '' : ` (${report.checks.filter((c) => c.verdict !== 'pass').map((c) => c.name).join(', ')})`}`, check('sharpness')?.score.toFixed(3), exposure.clippedShare?.toFixed(3), exposure.p98?.toFixed(0), check('information')?.score.toFixed(4)];
    console.log(`| ${row.join(' | ')} |`);
  }
}
