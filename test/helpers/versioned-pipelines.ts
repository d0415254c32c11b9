import type { Quad } from '../../src/core/postprocess/geometry.js';
import type { Pipeline } from '../../src/pipeline/contract.js';
import type { ModelManifest } from '../../src/runtime/manifest.js';
import type { PipelineFactory } from '../../src/registry/routing.js';
import type { NewVersion } from '../../src/registry/registry.js';
import { fixedReadingPipeline } from './pipelines.js';

/** The recogniser slot of the stub pipelines. */
export const STUB_REC = 'stub-rec';

/** How each stub recogniser version reads every page: its text and confidence (a low one sends pages to review). */
export const READINGS: Record<string, { text: string; confidence: number }> = {
  '1': { text: 'Invoice 20417 paid', confidence: 0.99 },
  '2': { text: 'Invoice 20417 paid', confidence: 0.98 },
  '3': { text: 'Inv0ice 2O4l7 pald', confidence: 0.4 },
};

/** Pipelines built and not yet closed, and runs attempted on a closed one (a hot swap that closed too early). */
export const pipelineLog = { open: 0, closedThenRun: 0 };

/**
 * A document pipeline whose recogniser `version` reads every page as READINGS[version] in
 * `delayMs`: lets the lifecycle tests tell versions apart by their answers without real models.
 */
export function versionedPipeline(version: string, delayMs = 0): Pipeline {
  let closed = false;
  pipelineLog.open++;
  const reading = READINGS[version];
  const box: Quad = [[0, 0], [10, 0], [10, 5], [0, 5]];
  return {
    ...fixedReadingPipeline,
    models: [fixedReadingPipeline.models[0], { ...fixedReadingPipeline.models[1], id: STUB_REC, version, sha256: version.repeat(64).slice(0, 64) }],
    async run() {
      if (closed) pipelineLog.closedThenRun++;
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (closed) pipelineLog.closedThenRun++;
      return { text: reading.text, lines: [{ ...reading, box }], orientation: { rotation: 0, source: 'none' } };
    },
    async close() {
      if (!closed) pipelineLog.open--;
      closed = true;
    },
  };
}

/** The lifecycle's factory over the stub: the recogniser version the registry asks for. */
export function versionedFactory(delayMs = 0): (pipeline: Pipeline) => PipelineFactory {
  return () => async (versions) => versionedPipeline(versions.get(STUB_REC)?.version ?? '1', delayMs);
}

/** A registry entry for a stub recogniser version (no ONNX file: its signature is given). */
export function stubVersion(version: string, parent: string | null = null): NewVersion {
  const manifest: ModelManifest = {
    id: STUB_REC,
    version,
    path: `/nonexistent/${version}.onnx`,
    sha256: version.repeat(64).slice(0, 64),
    inputs: [{ name: 'x', shape: ['batch', 3, 48, 'width'] }],
    outputs: [{ name: 'y', shape: ['batch', 'steps', 10] }],
    preprocess: { resize: { mode: 'fixed-height', height: 48 }, channelOrder: 'bgr', scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], layout: 'nchw' },
    postprocess: { kind: 'ctc' },
  };
  return { manifest, origin: parent === null ? 'builtin' : 'import', parent, signature: { inputs: manifest.inputs, outputs: manifest.outputs } };
}
