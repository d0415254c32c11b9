import { VisionopsError } from '../../core/errors.js';
import type { RuntimeConfig } from '../../runtime/config.js';
import type { Pipeline } from '../contract.js';
import type { ConfiguredPipeline, PipelineLoadOptions } from '../pipelines.js';
import { loadOwnPipeline } from './own-pipeline.js';
import { readManifestFile } from './read-manifest.js';

/** The loader of a configured classification or detection pipeline: its manifest read, its task checked against the entry's. */
export async function loadConfiguredOwnPipeline(entry: ConfiguredPipeline, runtime: RuntimeConfig, options: PipelineLoadOptions): Promise<Pipeline> {
  if (entry.manifest === undefined) throw new VisionopsError('INVALID_CONFIG', `Pipeline ${entry.name} (${entry.task}) names no manifest: add manifest: "path/to/manifest.json".`, { pipeline: entry.name });
  const loaded = await readManifestFile(entry.manifest);
  if (loaded.manifest.task !== entry.task) {
    throw new VisionopsError('INVALID_CONFIG', `Pipeline ${entry.name} is configured as ${entry.task} but its manifest ${loaded.file} declares task ${loaded.manifest.task}: make them agree.`, { pipeline: entry.name, key: 'task' });
  }
  return (await loadOwnPipeline(loaded, runtime, { name: entry.name, onBatch: options.onBatch })) as Pipeline;
}
