import { InferenceSession } from 'onnxruntime-node';
import { VisionopsError } from '../core/errors.js';
import type { TensorDescription } from '../runtime/manifest.js';
import type { ModelSignature } from './types.js';

/** The inputs and outputs an ONNX graph declares, read from a session of it (names, and each dimension fixed or named). */
export async function readSignature(model: string | Uint8Array): Promise<ModelSignature> {
  let session: InferenceSession;
  try {
    // Severity 3: errors only; nothing runs, the session is only asked what it takes and gives.
    session = typeof model === 'string' ? await InferenceSession.create(model, { logSeverityLevel: 3 }) : await InferenceSession.create(model, { logSeverityLevel: 3 });
  } catch (error) {
    throw new VisionopsError('MODEL_LOAD_FAILED', `The file is not an ONNX model onnxruntime can open (${error instanceof Error ? error.message : String(error)}): export it again as ONNX.`, {}, { cause: error });
  }
  try {
    const describe = (names: readonly string[], metadata: readonly InferenceSession.ValueMetadata[]): TensorDescription[] =>
      names.map((name, i) => {
        const meta = metadata[i];
        return { name, shape: meta !== undefined && meta.isTensor ? [...meta.shape] : [] };
      });
    return { inputs: describe(session.inputNames, session.inputMetadata), outputs: describe(session.outputNames, session.outputMetadata) };
  } finally {
    await session.release();
  }
}

/**
 * Why a graph's signature cannot fill a slot, or null when it can: the same inputs and outputs by
 * name and order, each of the same rank, and every dimension both fix equal (a class count, an
 * input height). A named dimension on either side fits any size.
 */
export function signatureMismatch(slot: ModelSignature, candidate: ModelSignature): string | null {
  for (const side of ['inputs', 'outputs'] as const) {
    const want = slot[side];
    const have = candidate[side];
    if (want.length !== have.length) return `the slot takes ${want.length} ${side} (${want.map((t) => t.name).join(', ')}), the file has ${have.length} (${have.map((t) => t.name).join(', ')})`;
    for (let i = 0; i < want.length; i++) {
      const a = want[i];
      const b = have[i];
      if (a.name !== b.name) return `${side} ${i} is named "${b.name}", the slot's is "${a.name}"`;
      if (a.shape.length > 0 && b.shape.length > 0 && a.shape.length !== b.shape.length) return `${side} ${a.name} has ${b.shape.length} dimensions, the slot's has ${a.shape.length}`;
      for (let d = 0; d < Math.min(a.shape.length, b.shape.length); d++) {
        if (typeof a.shape[d] === 'number' && typeof b.shape[d] === 'number' && a.shape[d] !== b.shape[d]) {
          return `${side} ${a.name} dimension ${d} is ${b.shape[d]}, the slot's is ${a.shape[d]}`;
        }
      }
    }
  }
  return null;
}
