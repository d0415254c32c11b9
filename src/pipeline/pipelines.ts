import type { Config } from '../config/schema.js';
import { VisionopsError } from '../core/errors.js';
import type { BatchListener } from '../runtime/batcher.js';
import type { RuntimeConfig } from '../runtime/config.js';
import type { RemoteListener } from '../runtime/remote/pool.js';
import type { ModelManifest } from '../runtime/manifest.js';
import type { CONFIGURABLE_TASKS, PipelineConfig } from './config.js';
import type { Pipeline } from './contract.js';
import { loadDocumentPipeline } from './document.js';
import { loadConfiguredOwnPipeline } from './own/configured.js';

/** One entry of `pipelines`, its settings resolved (`null` takes the top-level `pipeline` key). */
export interface ConfiguredPipeline {
  name: string;
  task: ConfigurableTask;
  settings: PipelineConfig;
  /** classification and detection: the model manifest file. */
  manifest?: string;
}

export interface PipelineLoadOptions {
  /** Told of every batch each model runs (the monitor's batch metrics). */
  onBatch?: BatchListener;
  /** Where registered models live (data.dir/models). */
  modelsDir?: string;
  /** Told of every call to and health check of the remote servers of `runtime.remote`. */
  onRemote?: RemoteListener;
  /** Registered versions to run in place of the configured models, by model id (the registry's slots). */
  versions?: ReadonlyMap<string, ModelManifest>;
}

type ConfigurableTask = (typeof CONFIGURABLE_TASKS)[number];
type Loader = (entry: ConfiguredPipeline, runtime: RuntimeConfig, options: PipelineLoadOptions) => Promise<Pipeline>;

/** How each task's pipeline is loaded: a new task is a new entry here and in CONFIGURABLE_TASKS. */
const LOADERS: Record<ConfigurableTask, Loader> = {
  document: (entry, runtime, options) => loadDocumentPipeline(entry.settings, runtime, { ...options, name: entry.name }),
  classification: loadConfiguredOwnPipeline,
  detection: loadConfiguredOwnPipeline,
};

/** The configured pipelines in order, the first being the default. */
export function configuredPipelines(config: Config): ConfiguredPipeline[] {
  return config.pipelines.map((entry) => ({ name: entry.name, task: entry.task, settings: entry.settings ?? config.pipeline, ...(entry.manifest === undefined ? {} : { manifest: entry.manifest }) }));
}

/** The pipeline configured under `name`, or the default (the first) when no name is given. Throws UNKNOWN_PIPELINE. */
export function configuredPipeline(config: Config, name?: string): ConfiguredPipeline {
  const all = configuredPipelines(config);
  if (name === undefined) return all[0];
  const found = all.find((entry) => entry.name === name);
  if (found === undefined) throw unknownPipeline(name, all.map((entry) => entry.name));
  return found;
}

export function unknownPipeline(name: string, known: string[]): VisionopsError {
  return new VisionopsError('UNKNOWN_PIPELINE', `There is no pipeline "${name}": the configured ones are ${known.join(', ')}; choose one of them, or declare it under pipelines.`, {
    pipeline: name,
    known,
  });
}

/** Loads every configured pipeline's models; when one fails, those already loaded are closed and the error thrown. */
export async function loadPipelines(config: Config, options: PipelineLoadOptions = {}): Promise<Pipeline[]> {
  const loaded: Pipeline[] = [];
  try {
    for (const entry of configuredPipelines(config)) {
      loaded.push(await LOADERS[entry.task](entry, config.runtime, options));
    }
    return loaded;
  } catch (error) {
    await Promise.all(loaded.map((pipeline) => pipeline.close()));
    throw error;
  }
}

/** The configured pipeline `name` loaded again with registered versions in some slots: the lifecycle's canaries and shadows. */
export function reloadPipeline(config: Config, name: string, versions: ReadonlyMap<string, ModelManifest>, options: PipelineLoadOptions = {}): Promise<Pipeline> {
  const entry = configuredPipeline(config, name);
  return LOADERS[entry.task](entry, config.runtime, { ...options, versions });
}
