import type { ModelManifest } from './manifest.js';

/** A model input or output: float32 values, row-major, with their dimensions. */
export interface TensorData {
  data: Float32Array;
  dims: number[];
}

/**
 * The one interface every inference backend implements: onnxruntime-node here, onnxruntime-web
 * on the edge, a remote Open Inference Protocol server later. Callers hold a `ModelSession` and
 * never import a backend's own types.
 */
export interface ModelSession {
  readonly manifest: ModelManifest;
  /** Runs the model once on named inputs; resolves to every output by name. Throws INFERENCE_FAILED. */
  run(feeds: Record<string, TensorData>): Promise<Record<string, TensorData>>;
  /** Frees the backend's resources; the session cannot run afterwards. */
  close(): Promise<void>;
}
