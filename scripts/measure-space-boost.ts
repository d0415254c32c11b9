/**
 * How the recogniser's margin and the CTC space boost (src/runtime/builtin.ts) were chosen: the
 * built-in detector finds the lines of generated receipts, labels and forms (scripts/varied-pages.ts),
 * then every crop is read once per margin and each output decoded with every boost. Prints the
 * character error rate (spaces count) and the same without spaces, per margin and boost (full-width
 * punctuation made ASCII as the defaults do), and per
 * font size for the defaults.
 *
 *   node --import tsx scripts/measure-space-boost.ts [--pages 40] [--first 0]
 */
import { parseArgs } from 'node:util';
import { ctcGreedyDecodeBatch } from '../src/core/postprocess/ctc.js';
import { extractTextBoxes, sortReadingOrder } from '../src/core/postprocess/db.js';
import { cropQuad } from '../src/core/preprocess/crop.js';
import type { PreprocessSpec } from '../src/core/preprocess/spec.js';
import { toTensor, toTensorBatch } from '../src/core/preprocess/tensor.js';
import { characterErrorRate } from '../src/core/text/error-rate.js';
import { ingestConfigSchema } from '../src/image/config.js';
import { ingestImage } from '../src/image/ingest.js';
import { bucketed } from '../src/core/postprocess/recognition.js';
import { pipelineConfigSchema } from '../src/pipeline/config.js';
import { builtinManifests, RECOGNITION_POSTPROCESS, RECOGNITION_PREPROCESS } from '../src/runtime/builtin.js';
import { runtimeConfigSchema } from '../src/runtime/config.js';
import { createOnnxSession } from '../src/runtime/onnx-node.js';
import type { TensorData } from '../src/runtime/session.js';
import { generateVariedPage } from './varied-pages.js';

const { values: args } = parseArgs({ options: { pages: { type: 'string', default: '40' }, first: { type: 'string', default: '0' } } });
const MARGINS: Record<string, PreprocessSpec['margin']> = {
  none: undefined,
  '0.05': { vertical: 0.05, horizontal: 0.05 },
  '0.1': { vertical: 0.1, horizontal: 0.1 },
  '0.2': { vertical: 0.2, horizontal: 0.2 },
  '0.35/0.2': { vertical: 0.35, horizontal: 0.2 },
};
const BOOSTS = [1, 10, 30, 100, 300];

const manifests = await builtinManifests();
const runtime = runtimeConfigSchema.parse({ intraOpThreads: 2 });
const detector = await createOnnxSession(manifests.detection, runtime);
const recogniser = await createOnnxSession(manifests.recognition, runtime);
const { detection } = pipelineConfigSchema.parse({});
const alphabet = manifests.recognition.labels ?? [];
const only = (outputs: Record<string, TensorData>) => Object.values(outputs)[0];

/** errors[margin][boost] and, for the defaults, per font size; each a list of [with spaces, without] per page. */
const errors: Record<string, Record<number, [number, number][]>> = {};
const bySize: Record<number, number[]> = {};
const withoutSpaces = (text: string) => text.replace(/ /g, '');
for (let index = Number(args.first); index < Number(args.first) + Number(args.pages); index++) {
  const page = await generateVariedPage(index);
  const { frame } = await ingestImage(new Uint8Array(page.image), ingestConfigSchema.parse({}));
  const input = toTensor(frame, manifests.detection.preprocess);
  const map = only(await detector.run({ x: { data: input.data, dims: input.dims } }));
  const boxes = sortReadingOrder(extractTextBoxes({ data: map.data, width: map.dims[3], height: map.dims[2] }, detection, frame.width, frame.height));
  const reference = page.lines.join('\n');
  for (const [name, margin] of Object.entries(MARGINS)) {
    const spec = { ...RECOGNITION_PREPROCESS, margin };
    const outputs: TensorData[] = [];
    for (const { box } of boxes) {
      const crop = cropQuad(frame, box);
      const { data, dims } = toTensorBatch([crop], bucketed(crop, spec, 160));
      outputs.push(only(await recogniser.run({ x: { data, dims } })));
    }
    for (const boost of BOOSTS) {
      const text = outputs
        .map((out) => ctcGreedyDecodeBatch(out.data, 1, out.dims[1], out.dims[2], alphabet, { ...RECOGNITION_POSTPROCESS, spaceBoost: boost })[0])
        .filter((line) => line.confidence >= 0.5 && line.text.trim() !== '')
        .map((line) => line.text)
        .join('\n');
      const cer = characterErrorRate(reference, text);
      ((errors[name] ??= {})[boost] ??= []).push([cer, characterErrorRate(withoutSpaces(reference), withoutSpaces(text))]);
      if (JSON.stringify(margin) === JSON.stringify(RECOGNITION_PREPROCESS.margin) && boost === RECOGNITION_POSTPROCESS.spaceBoost) (bySize[page.fontSize] ??= []).push(cer);
    }
  }
}
await Promise.all([detector.close(), recogniser.close()]);

const percent = (values: number[]) => `${((values.reduce((a, b) => a + b, 0) / values.length) * 100).toFixed(2)}%`.padStart(7);
console.log(`Mean CER over ${args.pages} pages (in brackets: without spaces), by margin (rows) and space boost (columns)`);
console.log(`margin    ${BOOSTS.map((b) => `x${b}`.padStart(17)).join('')}`);
for (const [name, byBoost] of Object.entries(errors)) {
  console.log(`${name.padEnd(9)} ${BOOSTS.map((b) => `${percent(byBoost[b].map((e) => e[0]))} (${percent(byBoost[b].map((e) => e[1]))})`.padStart(17)).join('')}`);
}
console.log(`\nThe defaults (margin ${JSON.stringify(RECOGNITION_PREPROCESS.margin)}, boost ${RECOGNITION_POSTPROCESS.spaceBoost}) by font size:`);
for (const [size, values] of Object.entries(bySize)) console.log(`  ${size} px: ${values.length} pages, CER ${percent(values)}, worst ${(Math.max(...values) * 100).toFixed(2)}%`);
