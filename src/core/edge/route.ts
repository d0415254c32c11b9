import { z } from 'zod';
import { VisionopsError } from '../errors.js';
import { DEVICE_STAGES, edgePolicySchema, type DeviceStage, type EdgePolicy, type Sent } from './policy.js';

/** The header an edge client (the capture page, `visionops edge`) states its route in: one JSON object, `EdgeRoute`. */
export const EDGE_ROUTE_HEADER = 'X-Visionops-Edge';

/**
 * Where each stage of one capture ran before the upload, recorded in the record's lineage as
 * `lineage.edge`. The stages in the record's timings ran in the cloud.
 */
export interface EdgeRoute {
  policy: EdgePolicy;
  /** Who captured: the capture page or the Node agent. */
  client: 'capture-page' | 'agent';
  /** Stages run on the device before the upload. */
  device: DeviceStage[];
  sent: Sent;
  /** The device's gate verdict on the capture. */
  deviceVerdict?: 'pass' | 'warn' | 'fail';
  /** When the capture was made (ISO 8601): later than the record's time when it waited in an outbox. */
  capturedAt?: string;
  /** Which onnxruntime-web backend ran the device's models (the capture page), when a stage used them. */
  modelBackend?: 'webgpu' | 'wasm';
  /** The models the device ran (the capture page), by role: the server accepts a device's reading only from the built-in models it serves. */
  models?: DeviceModel[];
}

/** Where a device learns which built-in models the server serves it (`DeviceModelsAnswer`): the weights are at /web/models/{role}.onnx. */
export const DEVICE_MODELS_PATH = '/web/models/models.json';

/** Where a device gets the server's lexicon (a `LexiconSource`, src/core/text/lexicon.ts), so it spells its readings as the server does. */
export const DEVICE_LEXICON_PATH = '/web/models/lexicon.json';

export interface DeviceModelsAnswer {
  models: DeviceModel[];
  /** The recogniser's CTC alphabet, the blank first. */
  alphabet: string[];
  /** How the server's document pipeline is configured to turn and read a page: a device reads with the same. */
  settings: DeviceReadingSettings;
}

/**
 * The part of a document pipeline's configuration (`pipeline.orientation`, `pipeline.recognition`)
 * that decides what a device reads: the 0/180 vote's thresholds, the recogniser's bucketing and
 * decoding, the drop score and the spelling pass.
 */
export interface DeviceReadingSettings {
  orientation: { lineThreshold: number; upsideDownShare: number };
  recognition: {
    bucketWidth: number;
    spaceBoost: number | null;
    dropScore: number;
    spelling: { least: number; shortest: number; words: string[] } | null;
  };
}

/** Only the reading settings of a pipeline's configuration, as they are served to devices. */
export function deviceReadingSettings({ orientation, recognition }: DeviceReadingSettings): DeviceReadingSettings {
  const { lineThreshold, upsideDownShare } = orientation;
  const { bucketWidth, spaceBoost, dropScore, spelling } = recognition;
  return { orientation: { lineThreshold, upsideDownShare }, recognition: { bucketWidth, spaceBoost, dropScore, spelling } };
}

export interface DeviceModel {
  role: 'detection' | 'orientation' | 'recognition';
  id: string;
  version: string;
}

export const edgeRouteSchema: z.ZodType<EdgeRoute> = z
  .object({
    policy: edgePolicySchema,
    client: z.enum(['capture-page', 'agent']),
    device: z
      .array(z.enum(DEVICE_STAGES))
      .max(DEVICE_STAGES.length)
      .refine((stages) => new Set(stages).size === stages.length, 'each stage once'),
    sent: z.enum(['original', 'downscaled', 'crops']),
    deviceVerdict: z.enum(['pass', 'warn', 'fail']).optional(),
    capturedAt: z.iso.datetime().optional(),
    modelBackend: z.enum(['webgpu', 'wasm']).optional(),
    models: z
      .array(z.object({ role: z.enum(['detection', 'orientation', 'recognition']), id: z.string().min(1).max(200), version: z.string().min(1).max(100) }).strict())
      .max(3)
      .optional(),
  })
  .strict();

/** The header's route, or undefined without one; anything else than one valid route is INVALID_REQUEST with what to send. */
export function parseEdgeRoute(raw: string | string[] | undefined): EdgeRoute | undefined {
  if (raw === undefined) return undefined;
  let value: unknown;
  try {
    value = Array.isArray(raw) ? undefined : JSON.parse(raw);
  } catch {
    value = undefined;
  }
  const parsed = edgeRouteSchema.safeParse(value);
  if (!parsed.success) {
    throw new VisionopsError(
      'INVALID_REQUEST',
      `Send one ${EDGE_ROUTE_HEADER} header holding a JSON object such as {"policy":"hybrid","client":"agent","device":["gate","duplicates"],"sent":"downscaled"}.`,
      { issues: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(header)'}: ${issue.message}`) },
    );
  }
  return parsed.data;
}
