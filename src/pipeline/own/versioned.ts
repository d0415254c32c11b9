import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { VisionopsError } from '../../core/errors.js';
import type { ModelManifest } from '../../runtime/manifest.js';
import type { UserManifest } from './manifest.js';
import { describeModel, type LoadedManifest } from './read-manifest.js';

/**
 * A user's manifest with a registered version of its model in place of the file it names (a
 * canary, a shadow, a promoted version): the version's weights, and its preprocessing, labels and
 * detection thresholds, which `visionops models add` inherits from its parent unless its
 * `--manifest` says otherwise. The decoder and the decision rule stay the manifest's.
 * Throws MODEL_NOT_FOUND when the weights are gone, MODEL_LOAD_FAILED when they are not the
 * registered ones or lack the manifest's tensors.
 */
export async function withRegisteredVersion(loaded: LoadedManifest, version: ModelManifest): Promise<LoadedManifest> {
  let modelBytes: Uint8Array;
  try {
    modelBytes = new Uint8Array(await readFile(version.path));
  } catch (error) {
    throw new VisionopsError('MODEL_NOT_FOUND', `The weights of ${version.id}@${version.version} (${version.path}) could not be read: register the version again with visionops models add.`, { model: version.id, version: version.version }, { cause: error });
  }
  const sha256 = createHash('sha256').update(modelBytes).digest('hex');
  if (sha256 !== version.sha256) {
    throw new VisionopsError('MODEL_LOAD_FAILED', `The weights of ${version.id}@${version.version} (${version.path}) changed since they were registered (sha256 ${sha256.slice(0, 12)}..., registered ${version.sha256.slice(0, 12)}...): register them as a new version.`, {
      model: version.id,
      version: version.version,
    });
  }
  const labels = version.labels ?? loaded.labels;
  const manifest = thresholdsOf(loaded.manifest, version);
  const described = describeModel(manifest, version.path, modelBytes, labels, version.preprocess);
  return {
    ...loaded,
    manifest,
    modelPath: version.path,
    modelBytes,
    labels,
    spec: version.preprocess,
    model: { ...described.model, version: version.version, postprocess: version.postprocess, ...(version.metrics === undefined ? {} : { metrics: version.metrics }) },
    inputName: described.inputName,
  };
}

/** A detector's score and IoU thresholds as the version's postprocessing sets them. */
function thresholdsOf(manifest: UserManifest, version: ModelManifest): UserManifest {
  if (manifest.task !== 'detection' || version.postprocess.kind !== 'detection') return manifest;
  return { ...manifest, output: { ...manifest.output, scoreThreshold: version.postprocess.scoreThreshold, iou: version.postprocess.iouThreshold } };
}
