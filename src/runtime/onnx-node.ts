import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { VisionopsError } from '../core/errors.js';
import type { RuntimeConfig } from './config.js';
import type { ModelManifest } from './manifest.js';
import type { ModelSession, TensorData } from './session.js';

async function readModel(manifest: ModelManifest): Promise<Uint8Array> {
  try {
    return await readFile(manifest.path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') {
      throw new VisionopsError(
        'MODEL_NOT_FOUND',
        `Model ${manifest.id}@${manifest.version} has no file at ${manifest.path}: put the ONNX file there or fix the manifest's path.`,
        { model: manifest.id, version: manifest.version, path: manifest.path },
        { cause: error },
      );
    }
    throw new VisionopsError(
      'MODEL_LOAD_FAILED',
      `Model ${manifest.id}@${manifest.version} could not be read from ${manifest.path} (${code ?? String(error)}): check the file's permissions.`,
      { model: manifest.id, version: manifest.version, path: manifest.path },
      { cause: error },
    );
  }
}

function toOrtTensor(name: string, tensor: TensorData): Tensor {
  const expected = tensor.dims.reduce((product, side) => product * side, 1);
  if (tensor.data.length !== expected) {
    throw new VisionopsError(
      'INFERENCE_FAILED',
      `Input ${name} holds ${tensor.data.length} values but its dims [${tensor.dims.join(', ')}] need ${expected}: build the tensor and its dims together (toTensor does).`,
      { input: name, length: tensor.data.length, dims: tensor.dims },
    );
  }
  return new Tensor('float32', tensor.data, tensor.dims);
}

function fromOrtTensor(name: string, tensor: Tensor): TensorData {
  if (!(tensor.data instanceof Float32Array)) {
    throw new VisionopsError('INFERENCE_FAILED', `Output ${name} is ${tensor.type}, not float32: this runtime reads float32 outputs only; export the model with float outputs.`, {
      output: name,
      type: tensor.type,
    });
  }
  return { data: tensor.data, dims: [...tensor.dims] };
}

/**
 * A session on onnxruntime-node. The file's SHA-256 is checked against the manifest before
 * onnxruntime sees a byte, so a result's lineage names the weights that really ran.
 * Throws MODEL_NOT_FOUND (no file), MODEL_LOAD_FAILED (other weights, or onnxruntime refuses them).
 */
export async function createOnnxSession(manifest: ModelManifest, runtime: RuntimeConfig): Promise<ModelSession> {
  const bytes = await readModel(manifest);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== manifest.sha256) {
    throw new VisionopsError(
      'MODEL_LOAD_FAILED',
      `Model ${manifest.id}@${manifest.version} at ${manifest.path} has SHA-256 ${sha256}, not the manifest's ${manifest.sha256}: the file was replaced or corrupted; restore it or register the new weights as a new version.`,
      { model: manifest.id, version: manifest.version, path: manifest.path, expected: manifest.sha256, actual: sha256 },
    );
  }

  let session: InferenceSession;
  try {
    session = await InferenceSession.create(bytes, {
      intraOpNumThreads: runtime.intraOpThreads,
      interOpNumThreads: runtime.interOpThreads,
      executionProviders: runtime.executionProviders,
      graphOptimizationLevel: 'all',
    });
  } catch (error) {
    throw new VisionopsError(
      'MODEL_LOAD_FAILED',
      `onnxruntime refused model ${manifest.id}@${manifest.version} (${error instanceof Error ? error.message : String(error)}): check that the file is an ONNX model and that runtime.executionProviders lists providers this machine has.`,
      { model: manifest.id, version: manifest.version, path: manifest.path },
      { cause: error },
    );
  }

  let closed = false;
  return {
    manifest,
    async run(feeds) {
      if (closed) {
        throw new VisionopsError('INFERENCE_FAILED', `The session of model ${manifest.id}@${manifest.version} is closed: load the model again.`, { model: manifest.id });
      }
      let outputs: InferenceSession.OnnxValueMapType;
      try {
        const ortFeeds: Record<string, Tensor> = {};
        for (const [name, tensor] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(name, tensor);
        outputs = await session.run(ortFeeds);
      } catch (error) {
        if (error instanceof VisionopsError) throw error;
        throw new VisionopsError(
          'INFERENCE_FAILED',
          `Model ${manifest.id}@${manifest.version} failed to run (${error instanceof Error ? error.message : String(error)}): check the inputs' names and shapes against the manifest.`,
          { model: manifest.id, version: manifest.version, inputs: Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, t.dims])) },
          { cause: error },
        );
      }
      const result: Record<string, TensorData> = {};
      for (const [name, value] of Object.entries(outputs)) result[name] = fromOrtTensor(name, value as Tensor);
      return result;
    },
    async close() {
      if (closed) return;
      closed = true;
      await session.release();
    },
  };
}
