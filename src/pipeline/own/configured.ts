import { VisionopsError } from '../../core/errors.js';
import type { RuntimeConfig } from '../../runtime/config.js';
import type { Pipeline } from '../contract.js';
import type { ConfiguredPipeline, PipelineLoadOptions } from '../pipelines.js';
import { loadOwnPipeline } from './own-pipeline.js';
import { readManifestFile } from './read-manifest.js';
import { withRegisteredVersion } from './versioned.js';

/**
 * The loader of a configured classification or detection pipeline: its manifest read, its task
 * checked against the entry's, and a registered version of its model run in place of the
 * manifest's file when `options.versions` names one (the lifecycle's production, canary, shadow).
 */
export async function loadConfiguredOwnPipeline(entry: ConfiguredPipeline, runtime: RuntimeConfig, options: PipelineLoadOptions): Promise<Pipeline> {
  if (entry.manifest === undefined) throw new VisionopsError('INVALID_CONFIG', `Pipeline ${entry.name} (${entry.task}) names no manifest: add manifest: "path/to/manifest.json".`, { pipeline: entry.name });
  const loaded = await readManifestFile(entry.manifest);
  if (loaded.manifest.task !== entry.task) {
    throw new VisionopsError('INVALID_CONFIG', `Pipeline ${entry.name} is configured as ${entry.task} but its manifest ${loaded.file} declares task ${loaded.manifest.task}: make them agree.`, { pipeline: entry.name, key: 'task' });
  }
  const version = options.versions?.get(loaded.model.id);
  const chosen = version === undefined ? loaded : await withRegisteredVersion(loaded, version);
  return (await loadOwnPipeline(chosen, runtime, { name: entry.name, onBatch: options.onBatch })) as Pipeline;
}
