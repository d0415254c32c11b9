import { readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { VisionopsError } from '../core/errors.js';
import type { ModelManifest } from '../runtime/manifest.js';
import type { ModelStore } from '../store/store.js';
import { registerModel } from './local-models.js';
import { registerVersion } from './registry.js';
import type { ModelVersion } from './types.js';

/** A user's model as `visionops pipelines add` or a configured pipeline declares it. */
export interface DeclaredModel {
  /** Its manifest as the runtime loads it: `id` is the slot (the pipeline's model), `version` this version. */
  manifest: ModelManifest;
  /** Its weights; read from `manifest.path` when not given. */
  bytes?: Uint8Array;
  notes?: Record<string, unknown>;
}

/** What registering a declared model did. */
export interface DeclaredVersion {
  version: ModelVersion;
  /** False when the same weights were registered under this version before (nothing written). */
  added: boolean;
  /** The slot's production version now: this one on first registration, or the one promoted before. */
  production: string;
}

/**
 * Registers a user's model (a manifest's ONNX file) as an `import` version of its slot: its
 * weights copied under the models folder (so the version still loads when the user's file
 * changes), its signature read from the ONNX, and put in production when the slot has none. The
 * same weights under the same version again are left as they are; other weights under a taken
 * version are MODEL_VERSION_EXISTS, before anything is written; a graph that does not fit the
 * slot is MODEL_SIGNATURE_MISMATCH, its copy removed.
 */
export async function registerDeclaredModel(store: ModelStore, modelsDir: string, declared: DeclaredModel, now: () => Date = () => new Date()): Promise<DeclaredVersion> {
  const { manifest } = declared;
  let version = await store.version(manifest.id, manifest.version);
  const added = version === null;
  if (version !== null && version.sha256 !== manifest.sha256) {
    throw new VisionopsError(
      'MODEL_VERSION_EXISTS',
      `${manifest.id}@${manifest.version} is already registered with other weights (sha256 ${version.sha256.slice(0, 12)}..., these are ${manifest.sha256.slice(0, 12)}...): give the manifest a new "version", or leave "version" out to name it by its weights.`,
      { model: manifest.id, version: manifest.version },
    );
  }
  if (version === null) {
    const bytes = declared.bytes ?? new Uint8Array(await readFile(manifest.path));
    const { path: _path, sha256: _sha256, ...rest } = manifest;
    const written = await registerModel(modelsDir, { manifest: rest, bytes, parent: null, notes: declared.notes ?? {} });
    try {
      version = await registerVersion(store, { manifest: written.manifest, origin: 'import', notes: declared.notes }, now);
    } catch (error) {
      // A graph refused by the slot leaves no weights behind under a version nobody registered.
      await rm(dirname(written.manifest.path), { recursive: true, force: true });
      throw error;
    }
  }
  const production = (await store.assignments(manifest.id)).find((a) => a.stage === 'production');
  if (production !== undefined) return { version, added, production: production.version };
  await store.setStages([{ model: manifest.id, version: manifest.version, stage: 'production', weight: null, since: now().toISOString(), by: 'first registration', reason: 'declared by its pipeline' }]);
  return { version, added, production: manifest.version };
}
