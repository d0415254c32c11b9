import { VisionopsError } from '../../core/errors.js';
import type { ModelSession } from '../session.js';
import type { OipDatatype, OipTensor } from './tensor.js';

/** An input or output as model metadata describes it; -1 for a dimension of any size. */
export interface TensorMetadata {
  name: string;
  datatype: OipDatatype;
  shape: number[];
}

/** What a caller of `infer` passes besides the inputs. */
export interface InferContext {
  /** Aborts when the client has gone; a model may stop early. */
  signal: AbortSignal;
}

/**
 * One model this server can run over the Open Inference Protocol: an ONNX model of a loaded
 * pipeline, a whole pipeline, or later a model of the registry. The server checks a request's
 * inputs against `inputs` (names, datatypes, shapes) before `infer` sees them.
 */
export interface ServableModel {
  readonly name: string;
  /** The versions it answers to, the one it runs first. */
  readonly versions: string[];
  /** The protocol's platform string: `onnxruntime_onnx` for an ONNX model. */
  readonly platform: string;
  readonly inputs: TensorMetadata[];
  readonly outputs: TensorMetadata[];
  /** Resolves to every output; throws VisionopsError (INVALID_REQUEST for inputs it cannot take). */
  infer(inputs: OipTensor[], context: InferContext): Promise<OipTensor[]>;
}

/** The models this server can run, as the protocol's routes look them up. A model registry can feed one too. */
export interface ModelCatalog {
  list(): ServableModel[];
}

const dimension = (side: number | string) => (typeof side === 'number' ? side : -1);

/**
 * A session's model as the protocol serves it: named by its manifest's id and version, float32
 * tensors in and out, shapes from the manifest the session was opened with (a named dimension is
 * dynamic: -1).
 */
export function sessionModel(session: ModelSession): ServableModel {
  const { manifest } = session;
  return {
    name: manifest.id,
    versions: [manifest.version],
    platform: 'onnxruntime_onnx',
    inputs: manifest.inputs.map((input) => ({ name: input.name, datatype: 'FP32', shape: input.shape.map(dimension) })),
    outputs: manifest.outputs.map((output) => ({ name: output.name, datatype: 'FP32', shape: output.shape.map(dimension) })),
    async infer(inputs) {
      const feeds = Object.fromEntries(inputs.map((input) => [input.name, { data: input.data as Float32Array, dims: input.shape }]));
      const outputs = await session.run(feeds);
      return Object.entries(outputs).map(([name, tensor]) => ({ name, datatype: 'FP32', shape: tensor.dims, data: tensor.data }));
    },
  };
}

/** Whether `shape` fits the metadata's (same rank, equal where the metadata fixes a side). */
export function fitsShape(shape: number[], expected: number[]): boolean {
  return shape.length === expected.length && shape.every((side, i) => expected[i] === -1 || expected[i] === side);
}

/** Checks a request's inputs against the model's metadata. Throws INVALID_REQUEST naming what disagrees. */
export function checkInputs(model: ServableModel, inputs: OipTensor[]): void {
  for (const input of inputs) {
    const expected = model.inputs.find((candidate) => candidate.name === input.name);
    if (expected === undefined) {
      throw new VisionopsError('INVALID_REQUEST', `Model "${model.name}" has no input "${input.name}": its inputs are ${model.inputs.map((i) => i.name).join(', ')}.`);
    }
    if (input.datatype !== expected.datatype) {
      throw new VisionopsError('INVALID_REQUEST', `Input "${input.name}" of model "${model.name}" takes ${expected.datatype}, not ${input.datatype}.`);
    }
    if (!fitsShape(input.shape, expected.shape)) {
      throw new VisionopsError('INVALID_REQUEST', `Input "${input.name}" of model "${model.name}" has shape [${input.shape.join(', ')}] where the model takes [${expected.shape.join(', ')}] (-1: any size).`);
    }
  }
  const missing = model.inputs.filter((expected) => !inputs.some((input) => input.name === expected.name));
  if (missing.length > 0) throw new VisionopsError('INVALID_REQUEST', `Model "${model.name}" needs the input(s) ${missing.map((m) => m.name).join(', ')}.`);
}
