import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { VisionopsError } from '../core/errors.js';
import { modelManifestSchema, type ModelManifest } from '../runtime/manifest.js';

/** A model version kept under `data.dir/models/<id>/<version>/`: the ONNX file and this manifest beside it. */
export interface RegisteredModel {
  manifest: ModelManifest;
  /** The model this one was derived from (quantised, fine-tuned...), by id, version and weights hash. */
  parent: { id: string; version: string; sha256: string } | null;
  createdAt: string;
  /** How it was made and what it measured then: e.g. speed-up and character error rate against its parent. */
  notes: Record<string, unknown>;
}

const registeredSchema = z
  .object({
    manifest: modelManifestSchema,
    parent: z.object({ id: z.string(), version: z.string(), sha256: z.string() }).strict().nullable(),
    createdAt: z.string(),
    notes: z.record(z.string(), z.unknown()),
  })
  .strict();

const FILE = 'model.onnx';
const MANIFEST = 'manifest.json';
const SAFE = /^[A-Za-z0-9._-]+$/;

function folderOf(modelsDir: string, id: string, version: string): string {
  if (!SAFE.test(id) || !SAFE.test(version)) {
    throw new VisionopsError('INVALID_REQUEST', `Model id and version may hold letters, digits, ".", "_" and "-" only, not ${JSON.stringify(`${id}@${version}`)}.`);
  }
  return join(modelsDir, id, version);
}

/**
 * Writes the weights and their manifest as a new version; the manifest's path and SHA-256 are
 * those of the file written. Throws INVALID_REQUEST for an id or version that is not a plain name.
 */
export async function registerModel(
  modelsDir: string,
  model: { manifest: Omit<ModelManifest, 'path' | 'sha256'>; bytes: Uint8Array; parent: RegisteredModel['parent']; notes: Record<string, unknown> },
): Promise<RegisteredModel> {
  const folder = folderOf(modelsDir, model.manifest.id, model.manifest.version);
  await mkdir(folder, { recursive: true });
  const path = join(folder, FILE);
  await writeFile(path, model.bytes);
  const registered: RegisteredModel = {
    manifest: { ...model.manifest, path, sha256: createHash('sha256').update(model.bytes).digest('hex') },
    parent: model.parent,
    createdAt: new Date().toISOString(),
    notes: model.notes,
  };
  await writeFile(join(folder, MANIFEST), `${JSON.stringify({ ...registered, manifest: { ...registered.manifest, path: FILE } }, null, 2)}\n`);
  return registered;
}

/** A registered version by reference `id@version`. Throws MODEL_NOT_FOUND when there is none. */
export async function readRegisteredModel(modelsDir: string, reference: string): Promise<RegisteredModel> {
  const at = reference.lastIndexOf('@');
  if (at <= 0) throw new VisionopsError('INVALID_REQUEST', `Name a registered model as id@version (for example ch_PP-OCRv4_rec-int8@1.4.2-int8), not "${reference}".`);
  const folder = folderOf(modelsDir, reference.slice(0, at), reference.slice(at + 1));
  let text: string;
  try {
    text = await readFile(join(folder, MANIFEST), 'utf8');
  } catch (error) {
    throw new VisionopsError('MODEL_NOT_FOUND', `No model ${reference} is registered under ${modelsDir}: make it with visionops quantize, or fix the reference.`, { folder }, { cause: error });
  }
  const registered = registeredSchema.parse(JSON.parse(text)) as RegisteredModel;
  return { ...registered, manifest: { ...registered.manifest, path: join(folder, registered.manifest.path) } };
}

/** The models folder under the data directory. */
export function modelsDirOf(dataDir: string): string {
  return join(dataDir, 'models');
}
