import type { ModelManifest, TensorDescription } from '../runtime/manifest.js';

/** Where a version runs: `production` answers, `canary` answers a share of the traffic, `shadow` runs after the answer, `off` not at all. */
export const LIFECYCLE_STAGES = ['production', 'canary', 'shadow', 'off'] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];
/** The stages a version can have run in: what a record's lineage names. */
export type RunStage = Exclude<LifecycleStage, 'off'>;

/** How a version came to be: shipped with visionops, `visionops quantize`, or `visionops models add`. */
export const VERSION_ORIGINS = ['builtin', 'quantize', 'import'] as const;
export type VersionOrigin = (typeof VERSION_ORIGINS)[number];

/** What a graph takes and gives: the slot a version fills must see the same. */
export interface ModelSignature {
  inputs: TensorDescription[];
  outputs: TensorDescription[];
}

/**
 * One version of one model slot in the registry: enough to load it again (the manifest, whose
 * `id` is the slot and `version` this version), to say what it is (weights and preprocessing
 * hashes, signature) and where it came from (parent, origin, dataset).
 */
export interface ModelVersion {
  /** The slot: the model a pipeline runs in one of its stages (e.g. `ch_PP-OCRv4_rec`). */
  model: string;
  version: string;
  sha256: string;
  preprocessHash: string;
  signature: ModelSignature;
  /** The version this one was made from, in the same slot. */
  parent: string | null;
  origin: VersionOrigin;
  /** The dataset export's manifest id it was trained or calibrated on, when known. */
  dataset: string | null;
  createdAt: string;
  /** Everything needed to load it: path, preprocessing, postprocessing, labels. */
  manifest: ModelManifest;
  /** How it was made and what it measured then. */
  notes: Record<string, unknown>;
}

/** A version's current stage; `weight` is the canary's share of traffic (0..1), null otherwise. */
export interface StageAssignment {
  model: string;
  version: string;
  stage: LifecycleStage;
  weight: number | null;
  /** When it entered this stage (ISO time): the start of what it is judged on. */
  since: string;
}

/** One change of stage, kept for the history and for rollback. */
export interface StageEvent extends StageAssignment {
  /** Who or what changed it: `admin:<key id>`, `cli`, `auto-rollback`, `first start`. */
  by: string;
  reason: string;
}

/** One model's part in one prediction (or one shadow run), what judging a version reads. */
export interface ModelRun {
  model: string;
  version: string;
  stage: RunStage;
  at: string;
  /** The production or canary record; for a shadow run, the record whose image it read again. */
  predictionId: string | null;
  decision: 'accept' | 'review' | 'reject' | null;
  failed: boolean;
  latencyMs: number;
  /** Shadow runs: agreement with the answer given (1 - character error rate for documents). */
  agreement: number | null;
}
