import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { Config } from '../../config/schema.js';
import { VisionopsError } from '../../core/errors.js';
import { registerDeclaredModel } from '../../registry/declared.js';
import { modelsDirOf } from '../../registry/local-models.js';
import type { ModelStore } from '../../store/store.js';
import { readManifestFile } from './read-manifest.js';

/** A pipeline registered with `visionops pipelines add`: its manifest copied under data.dir/pipelines/NAME/. */
export interface RegisteredPipeline {
  name: string;
  task: 'classification' | 'detection';
  /** The copied manifest's path. */
  manifest: string;
  /** `id@version` of its model in the registry (data.dir/models). */
  model: string;
}

/** What `visionops pipelines add` did: the pipeline, and its model's place in the registry. */
export interface AddedPipeline extends RegisteredPipeline {
  replaced: boolean;
  /** False when the same weights were registered under this version before. */
  modelAdded: boolean;
  /** The model's production version: this one unless another was in production before. */
  production: string;
}

const MANIFEST = 'manifest.json';

/** Where registered pipelines live. */
export function pipelinesDirOf(dataDir: string): string {
  return join(dataDir, 'pipelines');
}

/**
 * Registers a user's manifest: its model becomes a version in the model registry (an `import`
 * version, its weights under data.dir/models/NAME/VERSION/model.onnx, in production when its
 * slot has none) and the manifest, its labels written in and its model pointing at the registered
 * file, is kept as data.dir/pipelines/NAME/manifest.json, which the server loads at its next
 * start. Registering the same manifest again changes nothing; registering a name again with other
 * weights replaces its manifest and adds a version, which runs once staged (visionops models stage).
 *
 * @example const added = await registerPipeline('./data', 'examples/bright-squares/manifest.json', stores.models);
 */
export async function registerPipeline(dataDir: string, manifestPath: string, store: ModelStore, now?: () => Date): Promise<AddedPipeline> {
  const loaded = await readManifestFile(manifestPath);
  const { manifest } = loaded;
  const declared = await registerDeclaredModel(store, modelsDirOf(dataDir), { manifest: loaded.model, bytes: loaded.modelBytes, notes: { manifest: loaded.file, pipeline: manifest.name } }, now);
  const registered = declared.version;
  const folder = join(pipelinesDirOf(dataDir), manifest.name);
  const target = join(folder, MANIFEST);
  const replaced = await readFile(target).then(
    () => true,
    () => false,
  );
  await mkdir(folder, { recursive: true });
  const { labelsFile: _labelsFile, ...output } = manifest.output as typeof manifest.output & { labelsFile?: string };
  const copy = { ...manifest, model: relative(folder, registered.manifest.path), version: registered.manifest.version, output: { ...output, labels: loaded.labels } };
  // Written whole then renamed, so a server starting meanwhile reads the old manifest or the new one.
  await writeFile(`${target}.tmp`, `${JSON.stringify(copy, null, 2)}\n`);
  await rename(`${target}.tmp`, target);
  return { name: manifest.name, task: manifest.task, manifest: target, model: `${registered.model}@${registered.version}`, replaced, modelAdded: declared.added, production: declared.production };
}

/** Every pipeline registered under the data directory, by name. */
export async function registeredPipelines(dataDir: string): Promise<RegisteredPipeline[]> {
  const dir = pipelinesDirOf(dataDir);
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? [] : Promise.reject(error)));
  const found: RegisteredPipeline[] = [];
  for (const name of names.sort()) {
    const manifest = join(dir, name, MANIFEST);
    let parsed: { task?: unknown; name?: unknown; version?: unknown };
    try {
      parsed = JSON.parse(await readFile(manifest, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new VisionopsError('INVALID_CONFIG', `The registered pipeline ${manifest} cannot be read (${error instanceof Error ? error.message : String(error)}): register it again with visionops pipelines add.`, { manifest }, { cause: error });
    }
    if (parsed.task !== 'classification' && parsed.task !== 'detection') {
      throw new VisionopsError('INVALID_CONFIG', `The registered pipeline ${manifest} has no classification or detection task: register it again with visionops pipelines add.`, { manifest });
    }
    found.push({ name, task: parsed.task, manifest, model: `${String(parsed.name)}@${String(parsed.version)}` });
  }
  return found;
}

/**
 * The configuration with the pipelines registered under its data directory appended to
 * `pipelines`; a name configured in the file wins over a registered one of the same name.
 */
export async function withRegisteredPipelines(config: Config): Promise<Config> {
  const registered = await registeredPipelines(resolve(config.data.dir));
  const configured = new Set(config.pipelines.map((entry) => entry.name));
  const added = registered.filter((entry) => !configured.has(entry.name)).map((entry) => ({ name: entry.name, task: entry.task, settings: null, manifest: entry.manifest }));
  return added.length === 0 ? config : { ...config, pipelines: [...config.pipelines, ...added] };
}
