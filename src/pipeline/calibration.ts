import type { Frame } from '../core/frame.js';
import { cropQuad } from '../core/preprocess/crop.js';
import { toTensor } from '../core/preprocess/tensor.js';
import { ctcGreedyDecode } from '../core/postprocess/ctc.js';
import { extractTextBoxes } from '../core/postprocess/db.js';
import type { Quad } from '../core/postprocess/geometry.js';
import { editDistance } from '../core/text/error-rate.js';
import type { ModelManifest } from '../runtime/manifest.js';
import type { Comparison, Feeds } from '../runtime/quantize/quantize-model.js';
import type { DocumentPipeline } from './document.js';

/** The document pipeline's models that can be quantised, by role. */
export type QuantizableRole = 'detection' | 'recognition';

/**
 * Model inputs from one page, preprocessed exactly as serving does: the page itself for the
 * detector; for the recogniser, each line the pipeline finds, cropped as the pipeline crops it.
 * Pages the pipeline had to turn are skipped for recognition: their boxes belong to the turned frame.
 */
export async function calibrationInputs(role: QuantizableRole, manifest: ModelManifest, frame: Frame, pipeline: DocumentPipeline): Promise<Feeds[]> {
  const input = manifest.inputs[0].name;
  if (role === 'detection') return [{ [input]: toTensor(frame, manifest.preprocess) }];
  const { result } = await pipeline.read(frame, { exifOrientation: 1 });
  if (result.orientation.rotation !== 0) return [];
  return result.lines.map((line) => ({ [input]: toTensor(cropQuad(frame, line.box), manifest.preprocess) }));
}

/** What accuracy means when a model is quantised: characters read differently, or boxes found differently. */
export function comparisonFor(role: QuantizableRole, manifest: ModelManifest): Comparison {
  const output = manifest.outputs[0].name;
  if (role === 'recognition') {
    const alphabet = manifest.labels ?? [];
    const read = (probs: { data: Float32Array; dims: number[] }) => ctcGreedyDecode(probs.data, probs.dims[1], probs.dims[2], alphabet).text;
    return (float, quantized) => {
      const reference = read(float[output]);
      return { errors: editDistance(reference, read(quantized[output])), total: Math.max(1, [...reference].length) };
    };
  }
  if (manifest.postprocess.kind !== 'db') throw new Error('a detection model needs DB post-processing');
  const options = manifest.postprocess;
  const boxes = (map: { data: Float32Array; dims: number[] }) => {
    const [height, width] = [map.dims[2], map.dims[3]];
    return extractTextBoxes({ data: map.data, width, height }, options, width, height).map((b) => b.box);
  };
  return (float, quantized) => {
    const reference = boxes(float[output]);
    const candidate = boxes(quantized[output]);
    const matched = matchedBoxes(reference, candidate);
    return { errors: reference.length + candidate.length - 2 * matched, total: Math.max(1, reference.length + candidate.length) };
  };
}

/** Boxes of `a` that a distinct box of `b` overlaps by intersection over union of at least one half. */
function matchedBoxes(a: Quad[], b: Quad[]): number {
  const used = new Set<number>();
  let matched = 0;
  for (const box of a) {
    const j = b.findIndex((other, k) => !used.has(k) && boundsIou(box, other) >= 0.5);
    if (j >= 0) {
      used.add(j);
      matched++;
    }
  }
  return matched;
}

function boundsIou(a: Quad, b: Quad): number {
  const bounds = (q: Quad) => [Math.min(...q.map((p) => p[0])), Math.min(...q.map((p) => p[1])), Math.max(...q.map((p) => p[0])), Math.max(...q.map((p) => p[1]))];
  const [ax0, ay0, ax1, ay1] = bounds(a);
  const [bx0, by0, bx1, by1] = bounds(b);
  const iw = Math.max(0, Math.min(ax1, bx1) - Math.max(ax0, bx0));
  const ih = Math.max(0, Math.min(ay1, by1) - Math.max(ay0, by0));
  const intersection = iw * ih;
  const union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - intersection;
  return union > 0 ? intersection / union : 0;
}
