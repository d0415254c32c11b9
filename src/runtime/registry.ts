import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { VisionopsError } from '../core/errors.js';
import { modelManifestSchema, type ModelManifest } from './manifest.js';

/**
 * Models visionops made or was given, beside the built-in ones: `<dir>/<id>/<version>/model.onnx`
 * and its `manifest.json`. A version, once written, is never overwritten: new weights are a new version.
 */
export function modelsFolder(dataDir: string): string {
  return join(dataDir, 'models');
}

/**
 * Writes the weights and their manifest; `path` and `sha256` are filled in from where and what was
 * written. Registering the same weights under the same version again returns the registered manifest.
 */
export async function registerModel(dataDir: string, manifest: Omit<ModelManifest, 'path' | 'sha256'>, weights: Uint8Array): Promise<ModelManifest> {
  const folder = resolve(modelsFolder(dataDir), manifest.id, manifest.version);
  const sha256 = createHash('sha256').update(weights).digest('hex');
  const existing = await readFile(join(folder, 'manifest.json'), 'utf8').catch(() => null);
  if (existing !== null) {
    const registered = modelManifestSchema.parse(JSON.parse(existing));
    if (registered.sha256 === sha256) return registered;
    throw new VisionopsError('INVALID_REQUEST', `Model ${manifest.id}@${manifest.version} is already registered in ${folder}: a version is never overwritten; choose another version.`);
  }
  await mkdir(folder, { recursive: true });
  const path = join(folder, 'model.onnx');
  await writeFile(path, weights);
  const registered = modelManifestSchema.parse({ ...manifest, path, sha256 });
  await writeFile(join(folder, 'manifest.json'), `${JSON.stringify(registered, null, 2)}\n`);
  return registered;
}

/** A registered model by `id@version`. Throws MODEL_NOT_FOUND naming what is registered. */
export async function registeredModel(dataDir: string, reference: string): Promise<ModelManifest> {
  const [id, version] = reference.split('@');
  const file = join(modelsFolder(dataDir), id ?? '', version ?? '', 'manifest.json');
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null || !id || !version) {
    const known = await listRegistered(dataDir);
    throw new VisionopsError(
      'MODEL_NOT_FOUND',
      `No registered model ${reference} under ${modelsFolder(dataDir)}; registered: ${known.length === 0 ? 'none' : known.join(', ')}. Name one as id@version.`,
      { reference },
    );
  }
  return modelManifestSchema.parse(JSON.parse(text));
}

/** Every registered model as `id@version`. */
export async function listRegistered(dataDir: string): Promise<string[]> {
  const folder = modelsFolder(dataDir);
  const ids = await readdir(folder).catch(() => [] as string[]);
  const found: string[] = [];
  for (const id of ids.sort()) {
    for (const version of (await readdir(join(folder, id)).catch(() => [] as string[])).sort()) found.push(`${id}@${version}`);
  }
  return found;
}
