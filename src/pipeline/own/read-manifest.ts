import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { VisionopsError } from '../../core/errors.js';
import type { PreprocessSpec } from '../../core/preprocess/spec.js';
import { graphInterface } from '../../runtime/graph-io.js';
import type { ModelManifest } from '../../runtime/manifest.js';
import { parseUserManifest, preprocessSpecOf, type UserManifest } from './manifest.js';

/** A user's manifest read from its file, with everything its paths point at resolved and checked. */
export interface LoadedManifest {
  /** The manifest file's absolute path. */
  file: string;
  manifest: UserManifest;
  /** The ONNX file's absolute path. */
  modelPath: string;
  modelBytes: Uint8Array;
  /** The class names, from `output.labels` or the lines of `output.labelsFile`. */
  labels: string[];
  spec: PreprocessSpec;
  /** What visionops' runtime loads: the weights with their SHA-256, the graph's inputs and outputs, the spec. */
  model: ModelManifest;
  /** The graph's input tensor the image goes to. */
  inputName: string;
}

async function readText(path: string, what: string, key: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new VisionopsError('MODEL_NOT_FOUND', `The ${what} ${path} (${key}) could not be read (${(error as NodeJS.ErrnoException).code ?? String(error)}): fix the path, which is relative to the manifest's folder.`, { path, key }, { cause: error });
  }
}

/**
 * Reads and validates a manifest file: `model` and `output.labelsFile` are relative to its folder.
 * Throws INVALID_CONFIG naming the key at fault, MODEL_NOT_FOUND for a missing file,
 * MODEL_LOAD_FAILED for a file that is not ONNX or lacks the tensor named.
 *
 * @example const loaded = await readManifestFile('examples/line-orientation/manifest.json');
 */
export async function readManifestFile(path: string): Promise<LoadedManifest> {
  const file = resolve(path);
  const text = await readText(file, 'model manifest', 'manifest');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new VisionopsError('INVALID_CONFIG', `The model manifest ${file} is not JSON (${error instanceof Error ? error.message : String(error)}).`, { manifest: file }, { cause: error });
  }
  const manifest = parseUserManifest(json, file);
  const folder = dirname(file);
  const modelPath = resolve(folder, manifest.model);
  let modelBytes: Uint8Array;
  try {
    modelBytes = new Uint8Array(await readFile(modelPath));
  } catch (error) {
    throw new VisionopsError('MODEL_NOT_FOUND', `The manifest's model ${modelPath} could not be read (${(error as NodeJS.ErrnoException).code ?? String(error)}): put the ONNX file there or fix "model", which is relative to the manifest's folder.`, { path: modelPath, key: 'model' }, { cause: error });
  }
  const labels =
    manifest.output.labels ??
    (await readText(resolve(folder, manifest.output.labelsFile as string), 'labels file', 'output.labelsFile'))
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '');
  const spec = preprocessSpecOf(manifest);
  return { file, manifest, modelPath, modelBytes, labels, spec, ...describeModel(manifest, modelPath, modelBytes, labels, spec) };
}

/**
 * The ONNX file a manifest names (or a registered version of its model) as visionops' runtime
 * loads it: its input and decoder's outputs checked to exist, the decoder's outputs first.
 * Throws MODEL_LOAD_FAILED for a file that is not ONNX or lacks the tensor named.
 */
export function describeModel(manifest: UserManifest, modelPath: string, modelBytes: Uint8Array, labels: string[], spec: PreprocessSpec): Pick<LoadedManifest, 'model' | 'inputName'> {
  const graph = graphInterface(modelBytes, modelPath);
  const inputName = manifest.input.name ?? graph.inputs[0]?.name;
  if (inputName === undefined || !graph.inputs.some((input) => input.name === inputName)) {
    throw new VisionopsError('MODEL_LOAD_FAILED', `The model ${modelPath} has no input ${JSON.stringify(inputName)} (input.name): its inputs are ${graph.inputs.map((i) => i.name).join(', ') || 'none'}.`, { key: 'input.name', inputs: graph.inputs.map((i) => i.name) });
  }
  const generic = manifest.task === 'detection' && manifest.output.decode === 'generic' ? manifest.output.outputs : undefined;
  const outputNames = generic !== undefined ? [generic.boxes, generic.scores, ...(generic.classes === undefined ? [] : [generic.classes])] : [manifest.output.name ?? graph.outputs[0]?.name];
  for (const name of outputNames) {
    if (name === undefined || !graph.outputs.some((output) => output.name === name)) {
      throw new VisionopsError('MODEL_LOAD_FAILED', `The model ${modelPath} has no output ${JSON.stringify(name)}: its outputs are ${graph.outputs.map((o) => o.name).join(', ') || 'none'}; fix output.name or output.outputs.`, { key: 'output', outputs: graph.outputs.map((o) => o.name) });
    }
  }
  const sha256 = createHash('sha256').update(modelBytes).digest('hex');
  const model: ModelManifest = {
    id: manifest.name,
    version: manifest.version ?? sha256.slice(0, 12),
    path: modelPath,
    sha256,
    inputs: graph.inputs,
    // The decoder's outputs first: the runtime's first output is the one a single-output decoder reads.
    outputs: [...outputNames.map((name) => graph.outputs.find((o) => o.name === name)!), ...graph.outputs.filter((o) => !outputNames.includes(o.name))],
    preprocess: spec,
    postprocess: manifest.task === 'classification' ? { kind: 'classification' } : { kind: 'detection', scoreThreshold: manifest.output.scoreThreshold, iouThreshold: manifest.output.iou },
    labels,
  };
  return { model, inputName };
}
