import { VisionopsError } from '../core/errors.js';
import { DynamicBatcher, type BatchListener } from './batcher.js';
import type { ModelManifest } from './manifest.js';
import type { ModelSession, TensorData } from './session.js';

export interface BatchingOptions {
  maxBatchSize: number;
  maxQueueDelayMicros: number;
  /** Batches of this model running at once: the number of inference workers. */
  maxInFlight: number;
  onBatch?: BatchListener;
}

/**
 * A model whose callers send one example at a time ([1, ...] tensors) and whose runs take
 * several: same-shaped examples from any caller (the lines of one page, or of concurrent pages)
 * are stacked along the first dimension, run once and split again.
 */
export interface BatchedModel {
  readonly manifest: ModelManifest;
  /** One example in (first dimension 1), its outputs out (first dimension 1). */
  infer(feeds: Record<string, TensorData>): Promise<Record<string, TensorData>>;
  /** Requests waiting for a batch. */
  readonly queued: number;
}

type Feeds = Record<string, TensorData>;

function shapeKey(feeds: Feeds): string {
  return Object.entries(feeds)
    .map(([name, tensor]) => `${name}:${tensor.dims.slice(1).join('x')}`)
    .join(',');
}

function stack(examples: Feeds[]): Feeds {
  if (examples.length === 1) return examples[0];
  const out: Feeds = {};
  for (const name of Object.keys(examples[0])) {
    const first = examples[0][name];
    const size = first.data.length;
    const data = new Float32Array(size * examples.length);
    examples.forEach((feeds, n) => data.set(feeds[name].data, n * size));
    out[name] = { data, dims: [examples.length, ...first.dims.slice(1)] };
  }
  return out;
}

function split(outputs: Feeds, count: number, model: string): Feeds[] {
  if (count === 1) return [outputs];
  const out: Feeds[] = Array.from({ length: count }, () => ({}));
  for (const [name, tensor] of Object.entries(outputs)) {
    if (tensor.dims[0] !== count) {
      throw new VisionopsError('INFERENCE_FAILED', `Model ${model} answered a batch of ${count} with output ${name} of dims [${tensor.dims.join(', ')}]: batch only models whose outputs lead with the batch dimension (set its maxBatchSize to 1).`, {
        model,
        output: name,
        dims: tensor.dims,
      });
    }
    const size = tensor.data.length / count;
    for (let n = 0; n < count; n++) out[n][name] = { data: tensor.data.subarray(n * size, (n + 1) * size), dims: [1, ...tensor.dims.slice(1)] };
  }
  return out;
}

/**
 * @example
 * const recognition = batchedModel(session, { maxBatchSize: 16, maxQueueDelayMicros: 2000, maxInFlight: 2 });
 * const { [outputName]: probabilities } = await recognition.infer({ x: lineTensor });
 */
export function batchedModel(session: ModelSession, options: BatchingOptions): BatchedModel {
  const model = `${session.manifest.id}@${session.manifest.version}`;
  const batcher = new DynamicBatcher<Feeds, Feeds>({
    name: session.manifest.id,
    maxBatchSize: options.maxBatchSize,
    maxQueueDelayMicros: options.maxQueueDelayMicros,
    maxInFlight: options.maxInFlight,
    keyOf: shapeKey,
    run: async (examples) => split(await session.run(stack(examples)), examples.length, model),
    onBatch: options.onBatch,
  });
  return {
    manifest: session.manifest,
    infer(feeds) {
      for (const [name, tensor] of Object.entries(feeds)) {
        if (tensor.dims[0] !== 1) {
          throw new VisionopsError('INTERNAL', `Input ${name} of ${model} has batch dimension ${tensor.dims[0]}: send one example at a time; the batcher stacks them.`, { dims: tensor.dims });
        }
      }
      return batcher.submit(feeds);
    },
    get queued() {
      return batcher.queued;
    },
  };
}
