import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { VisionopsError } from '../core/errors.js';
import { preprocessHash } from '../core/preprocess/hash.js';
import { builtinManifests } from '../runtime/builtin.js';
import { modelManifestSchema, type ModelManifest } from '../runtime/manifest.js';
import type { ModelStore } from '../store/store.js';
import { registerModel } from './local-models.js';
import { readSignature, signatureMismatch } from './signature.js';
import { LIFECYCLE_STAGES, type LifecycleStage, type ModelVersion, type StageAssignment, type StageEvent, type VersionOrigin } from './types.js';

/** What a caller knows of a new version; the registry adds the hashes, the signature and the time. */
export interface NewVersion {
  /** Its manifest; `id` is the slot, `version` this version. */
  manifest: ModelManifest;
  origin: VersionOrigin;
  parent?: string | null;
  dataset?: string | null;
  notes?: Record<string, unknown>;
  /** The graph's inputs and outputs; read from an ONNX session of `manifest.path` when not given. */
  signature?: ModelVersion['signature'];
}

/**
 * Registers one version of a slot, checking first that its graph fits the slot (the signature of
 * the slot's production version, or its first version) and that its parent is registered. The
 * one way in for every origin: built-in models, `visionops quantize`, `visionops models add`,
 * and pipelines declared later. Throws MODEL_SIGNATURE_MISMATCH, MODEL_VERSION_NOT_FOUND (parent),
 * MODEL_VERSION_EXISTS.
 */
export async function registerVersion(store: ModelStore, version: NewVersion, now: () => Date = () => new Date()): Promise<ModelVersion> {
  const manifest = modelManifestSchema.parse(version.manifest);
  const signature = version.signature ?? (await readSignature(manifest.path));
  const slot = await slotSignature(store, manifest.id);
  const mismatch = slot === null ? null : signatureMismatch(slot, signature);
  if (mismatch !== null) {
    throw new VisionopsError('MODEL_SIGNATURE_MISMATCH', `This graph cannot fill the slot ${manifest.id}: ${mismatch}. Export the model with the slot's inputs and outputs, or register it under another model name.`, {
      model: manifest.id,
      slot,
      signature,
    });
  }
  const parent = version.parent ?? null;
  if (parent !== null && (await store.version(manifest.id, parent)) === null) {
    throw new VisionopsError('MODEL_VERSION_NOT_FOUND', `The parent ${manifest.id}@${parent} is not registered: name a version visionops models list shows.`, { model: manifest.id, version: parent });
  }
  return store.addVersion({
    model: manifest.id,
    version: manifest.version,
    sha256: manifest.sha256,
    preprocessHash: await preprocessHash(manifest.preprocess),
    signature,
    parent,
    origin: version.origin,
    dataset: version.dataset ?? null,
    createdAt: now().toISOString(),
    manifest,
    notes: version.notes ?? {},
  });
}

/** The signature a new version of the slot must have: its production version's, or its first version's; null for a new slot. */
async function slotSignature(store: ModelStore, model: string): Promise<ModelVersion['signature'] | null> {
  const production = (await store.assignments(model)).find((a) => a.stage === 'production');
  if (production !== undefined) return (await store.version(model, production.version))?.signature ?? null;
  return (await store.versions(model))[0]?.signature ?? null;
}

/**
 * The built-in models as versions, each slot's built-in version put in production when the slot
 * has none (the first start). Already registered versions are left as they are, so a restart
 * neither reads the graphs again nor undoes a promotion.
 */
export async function registerBuiltins(store: ModelStore, now: () => Date = () => new Date()): Promise<void> {
  const builtin = await builtinManifests();
  for (const manifest of [builtin.detection, builtin.orientation, builtin.recognition]) {
    if ((await store.version(manifest.id, manifest.version)) === null) await registerVersion(store, { manifest, origin: 'builtin' }, now);
    if ((await store.assignments(manifest.id)).every((a) => a.stage !== 'production')) {
      await store.setStages([{ model: manifest.id, version: manifest.version, stage: 'production', weight: null, since: now().toISOString(), by: 'first start', reason: 'built-in model' }]);
    }
  }
}

/** What `visionops models add` and the API take besides the file. */
export interface ImportOptions {
  model: string;
  /** Its version name; `import-` and the first 12 hex digits of the weights' SHA-256 when not given. */
  version?: string;
  /** The version it was made from; the slot's production version when not given. */
  parent?: string;
  dataset?: string;
  /** Preprocessing, postprocessing and labels when they differ from the parent's (a manifest file's fields). */
  manifest?: Partial<Pick<ModelManifest, 'preprocess' | 'postprocess' | 'labels' | 'metrics'>>;
  notes?: Record<string, unknown>;
}

/**
 * `visionops models add`: an ONNX file as a new version of a slot, its graph checked against the
 * slot's before anything is written, its weights kept under the models folder beside their manifest
 * (as `visionops quantize` keeps its own), the rest of its manifest taken from its parent.
 */
export async function importVersion(store: ModelStore, modelsDir: string, file: string, options: ImportOptions, now: () => Date = () => new Date()): Promise<ModelVersion> {
  const bytes = new Uint8Array(await readFile(file));
  const signature = await readSignature(bytes);
  const slot = await slotSignature(store, options.model);
  if (slot === null) {
    throw new VisionopsError('MODEL_VERSION_NOT_FOUND', `There is no model ${options.model} to add a version to: name one visionops models list shows.`, { model: options.model });
  }
  const mismatch = signatureMismatch(slot, signature);
  if (mismatch !== null) {
    throw new VisionopsError('MODEL_SIGNATURE_MISMATCH', `${file} cannot fill the slot ${options.model}: ${mismatch}. Export the model with the slot's inputs and outputs.`, {
      model: options.model,
      slot,
      signature,
    });
  }
  const parentName = options.parent ?? (await store.assignments(options.model)).find((a) => a.stage === 'production')?.version;
  const parent = parentName === undefined ? null : await store.version(options.model, parentName);
  if (parent === null) {
    throw new VisionopsError('MODEL_VERSION_NOT_FOUND', `The parent ${options.model}@${parentName ?? '(none in production)'} is not registered: name one with --parent.`, { model: options.model });
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const version = options.version ?? `import-${sha256.slice(0, 12)}`;
  const { path: _path, sha256: _sha, ...inherited } = parent.manifest;
  const written = await registerModel(modelsDir, {
    manifest: { ...inherited, ...options.manifest, id: options.model, version, inputs: signature.inputs, outputs: signature.outputs },
    bytes,
    parent: { id: parent.model, version: parent.version, sha256: parent.sha256 },
    notes: options.notes ?? {},
  });
  return registerVersion(store, { manifest: written.manifest, origin: 'import', parent: parent.version, dataset: options.dataset ?? null, notes: written.notes, signature }, now);
}

/** A version and its current stage, as `models list` and the API show it. */
export interface VersionView extends Omit<ModelVersion, 'manifest'> {
  stage: LifecycleStage;
  weight: number | null;
  since: string | null;
}

/** Every version of a slot (or of every slot) with its stage, oldest first. */
export async function listVersions(store: ModelStore, model?: string): Promise<VersionView[]> {
  const [versions, assignments] = await Promise.all([store.versions(model), store.assignments(model)]);
  if (model !== undefined && versions.length === 0) {
    throw new VisionopsError('MODEL_VERSION_NOT_FOUND', `There is no model ${model} in the registry: name one visionops models list shows.`, { model });
  }
  return versions.map(({ manifest: _manifest, ...version }) => {
    const assigned = assignments.find((a) => a.model === version.model && a.version === version.version);
    return { ...version, stage: assigned?.stage ?? 'off', weight: assigned?.weight ?? null, since: assigned?.since ?? null };
  });
}

/** A stage change as asked: the version and where it goes. */
export interface StageRequest {
  model: string;
  version: string;
  stage: LifecycleStage;
  weight?: number;
  by: string;
  reason?: string;
}

/**
 * Puts a version in a stage: production (the one before it goes off), canary (with its share of
 * traffic, 0 < weight <= 1; the canary before it goes off), shadow, or off. The production
 * version cannot be switched off or demoted without another taking its place: STAGE_CHANGE_REFUSED.
 */
export async function changeStage(store: ModelStore, request: StageRequest, now: () => Date = () => new Date()): Promise<StageAssignment> {
  const event = await stageEvent(store, request, now);
  await store.setStages([event]);
  return { model: event.model, version: event.version, stage: event.stage, weight: event.weight, since: event.since };
}

/** The event that puts a version in a stage, once the request is checked against the slot as it stands. */
async function stageEvent(store: ModelStore, request: StageRequest, now: () => Date): Promise<StageEvent> {
  if (!(LIFECYCLE_STAGES as readonly string[]).includes(request.stage)) {
    throw new VisionopsError('INVALID_REQUEST', `"${request.stage}" is not a stage: use one of ${LIFECYCLE_STAGES.join(', ')}.`);
  }
  const version = await store.version(request.model, request.version);
  if (version === null) {
    throw new VisionopsError('MODEL_VERSION_NOT_FOUND', `There is no version ${request.model}@${request.version}: register it first (visionops models add, visionops quantize).`, {
      model: request.model,
      version: request.version,
    });
  }
  let weight: number | null = null;
  if (request.stage === 'canary') {
    weight = request.weight ?? 0.1;
    if (!(weight > 0 && weight <= 1)) throw new VisionopsError('INVALID_REQUEST', `A canary's weight is its share of traffic, above 0 and at most 1, not ${weight}.`);
  }
  const current = (await store.assignments(request.model)).find((a) => a.version === request.version);
  if (current?.stage === 'production' && request.stage !== 'production') {
    throw new VisionopsError(
      'STAGE_CHANGE_REFUSED',
      `${request.model}@${request.version} is in production: promote another version (or roll back) to take its place instead of moving it to ${request.stage}.`,
      { model: request.model, version: request.version },
    );
  }
  return {
    model: request.model,
    version: request.version,
    stage: request.stage,
    weight,
    since: now().toISOString(),
    by: request.by,
    reason: request.reason ?? `set to ${request.stage}`,
  };
}

/**
 * Production goes back to the version that held it before the current one, and the canary is
 * switched off, in one transaction. STAGE_CHANGE_REFUSED when the slot has never had another
 * production version.
 */
export async function rollback(store: ModelStore, model: string, by: string, reason = 'rollback', now: () => Date = () => new Date()): Promise<{ production: string; previous: string; canaryOff: string | null }> {
  const assignments = await store.assignments(model);
  const production = assignments.find((a) => a.stage === 'production');
  if (production === undefined) throw new VisionopsError('MODEL_VERSION_NOT_FOUND', `There is no model ${model} in production to roll back.`, { model });
  const history = await store.stageHistory(model, 1000);
  const previous = history.find((event) => event.stage === 'production' && event.version !== production.version);
  if (previous === undefined) {
    throw new VisionopsError('STAGE_CHANGE_REFUSED', `${model} has had no production version before ${production.version}: there is nothing to roll back to.`, { model });
  }
  const canary = assignments.find((a) => a.stage === 'canary');
  const events = [
    ...(canary === undefined ? [] : [await stageEvent(store, { model, version: canary.version, stage: 'off', by, reason }, now)]),
    await stageEvent(store, { model, version: previous.version, stage: 'production', by, reason }, now),
  ];
  await store.setStages(events);
  return { production: previous.version, previous: production.version, canaryOff: canary?.version ?? null };
}
