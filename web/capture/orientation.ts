import * as ort from 'onnxruntime-web/wasm';

/** The built-in 0/180 text-line classifier running on the device; its scores, in the order of its labels (0, 180). */
export interface DeviceClassifier {
  run(tensor: { data: Float32Array; dims: number[] }): Promise<number[]>;
}

/**
 * The classifier in onnxruntime-web's WebAssembly backend, one thread (threads need a
 * cross-origin-isolated page, which the pages are not), fed the tensor the core's `toTensor` makes
 * with the server's ORIENTATION_PREPROCESS: the same input as onnxruntime-node reads in the cloud.
 * `wasmUrl` is where onnxruntime-web's ort-wasm-simd-threaded.wasm is served.
 */
export async function loadOrientationClassifier(model: Uint8Array | string, wasmUrl: string): Promise<DeviceClassifier> {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = { wasm: wasmUrl };
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model, { executionProviders: ['wasm'] }) : await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
  const [input] = session.inputNames;
  const [output] = session.outputNames;
  return {
    async run(tensor) {
      const outputs = await session.run({ [input]: new ort.Tensor('float32', tensor.data, tensor.dims) });
      return Array.from(outputs[output].data as Float32Array);
    },
  };
}
