import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Config } from '../../config/schema.js';
import { VisionopsError } from '../../core/errors.js';
import { readNpy } from '../../core/npy.js';
import { compareTensors, type TensorDifference } from '../../core/preprocess/parity.js';
import type { PreprocessSpec } from '../../core/preprocess/spec.js';
import { toTensor } from '../../core/preprocess/tensor.js';
import { StageClock } from '../clock.js';
import { configuredPipeline } from '../pipelines.js';
import { pathSettings, StageRunner } from '../runner.js';
import { oneLevel } from './manifest.js';
import { readManifestFile } from './read-manifest.js';

const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

/** One image of a reference folder against the tensor its training code saved. */
export interface ParityFile {
  name: string;
  image: string;
  reference: string;
  /** The tensor's shape without its batch dimension. */
  dims: number[];
  difference: TensorDifference | null;
  /** Why the pair could not be compared (shapes differ); null when it was. */
  problem: string | null;
  /** The first element over the tolerance, as a pixel and a channel of the tensor. */
  first: { x: number; y: number; channel: number; channelName: string; ours: number; reference: number } | null;
  passed: boolean;
}

export interface ParityReport {
  pipeline: string;
  tolerance: number;
  files: ParityFile[];
  /** Images without a .npy beside them, and .npy files without an image. */
  unpaired: string[];
  passed: boolean;
}

/** NAME.png|jpg|jpeg and NAME.npy pairs of a folder, by name. */
async function pairsIn(dir: string): Promise<{ pairs: { name: string; image: string; reference: string }[]; unpaired: string[] }> {
  const entries = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    throw new VisionopsError('INVALID_REQUEST', `The reference folder ${dir} cannot be read (${error.code ?? error.message}): give the folder holding NAME.png and NAME.npy pairs.`, { dir });
  });
  const stem = (file: string) => file.slice(0, file.length - extname(file).length);
  const images = entries.filter((file) => IMAGE_EXTENSIONS.includes(extname(file).toLowerCase()));
  const references = new Set(entries.filter((file) => extname(file).toLowerCase() === '.npy'));
  const pairs = images.filter((image) => references.has(`${stem(image)}.npy`)).map((image) => ({ name: stem(image), image: join(dir, image), reference: join(dir, `${stem(image)}.npy`) }));
  const paired = new Set(pairs.map((pair) => pair.name));
  const unpaired = [...images.filter((image) => !paired.has(stem(image))), ...[...references].filter((file) => !paired.has(stem(file)))].sort();
  return { pairs: pairs.sort((a, b) => (a.name < b.name ? -1 : 1)), unpaired };
}

/** Where an element of a [3, H, W] or [H, W, 3] tensor sits: its pixel and channel. */
function elementAt(at: number[], spec: PreprocessSpec): { x: number; y: number; channel: number } {
  return spec.layout === 'nhwc' ? { y: at[0], x: at[1], channel: at[2] } : { channel: at[0], y: at[1], x: at[2] };
}

/**
 * Compares, for every NAME.png (or .jpg) and NAME.npy pair in `dir`, the input tensor visionops
 * makes for the image (decoded as uploads are, the pipeline's region of interest cropped, its
 * manifest's preprocessing) with the tensor the training code saved, without its batch dimension.
 * A pair passes when no element differs by more than `tolerance` (one level of 255 in the
 * normalised range by default).
 *
 * @example const report = await checkParity(config, 'defects', 'parity/', undefined);
 */
export async function checkParity(config: Config, pipeline: string, dir: string, tolerance?: number): Promise<ParityReport> {
  const entry = configuredPipeline(config, pipeline);
  if (entry.manifest === undefined) {
    throw new VisionopsError('INVALID_REQUEST', `Pipeline ${entry.name} is the built-in ${entry.task} pipeline, which has no manifest to check: parity compares a classification or detection pipeline's preprocessing.`, { pipeline: entry.name });
  }
  const { spec } = await readManifestFile(entry.manifest);
  const limit = tolerance ?? oneLevel(spec);
  const runner = new StageRunner(pathSettings(config, entry.settings), null);
  const { pairs, unpaired } = await pairsIn(dir);
  if (pairs.length === 0) {
    throw new VisionopsError('INVALID_REQUEST', `The folder ${dir} holds no NAME.png (or .jpg) with a NAME.npy beside it: save each reference tensor next to its image under the same name.`, { dir, unpaired });
  }
  const files: ParityFile[] = [];
  for (const pair of pairs) {
    const clock = new StageClock();
    const image = await runner.ingest(new Uint8Array(await readFile(pair.image)), clock);
    const { frame } = await runner.crop(image, clock);
    const ours = toTensor(frame, spec);
    const dims = ours.dims.slice(1);
    const reference = readNpy(new Uint8Array(await readFile(pair.reference)));
    // A reference saved with its batch dimension of one is read as the same tensor.
    const shape = reference.shape.length === dims.length + 1 && reference.shape[0] === 1 ? reference.shape.slice(1) : reference.shape;
    if (shape.join(',') !== dims.join(',')) {
      const problem = `the reference has shape (${reference.shape.join(', ')}), visionops makes (${dims.join(', ')}) for this pipeline: check input.width, height and layout against the training code`;
      files.push({ ...pair, dims, difference: null, problem, first: null, passed: false });
      continue;
    }
    const difference = compareTensors(ours.data, reference.data, dims, limit);
    const channels = spec.channelOrder === 'bgr' ? 'BGR' : 'RGB';
    const first = difference.first === null ? null : { ...elementAt(difference.first.at, spec), ours: difference.first.ours, reference: difference.first.reference };
    files.push({ ...pair, dims, difference, problem: null, first: first === null ? null : { ...first, channelName: channels[first.channel] }, passed: difference.over === 0 });
  }
  return { pipeline: entry.name, tolerance: limit, files, unpaired, passed: files.every((file) => file.passed) };
}
