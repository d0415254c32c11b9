import { z } from 'zod';

/**
 * Where the work on one capture runs. The decision table in docs/edge.md says which to choose from
 * the latency budget, the bandwidth, privacy and connectivity; this table says what each one does.
 */
export const EDGE_POLICIES = ['device', 'hybrid', 'cloud'] as const;
export type EdgePolicy = (typeof EDGE_POLICIES)[number];

/**
 * What a device sends for a capture the gate let through: the file as it was, a re-encoded,
 * downscaled copy without its metadata, or only the text regions its detector found (crops cut
 * from the full-resolution frame, `POST /v1/predict/regions`).
 */
export type Sent = 'original' | 'downscaled' | 'crops';

/**
 * Stages a device can run itself: `orientation` is the built-in detector and 0/180 classifier in
 * onnxruntime-web (the capture page only), `detection` the built-in detector finding the text
 * regions it sends as crops, `recognition` the built-in recogniser reading those crops (the
 * capture page under `device`: the cloud records the device's reading). The cloud always runs its
 * own gate and, on a page or on crops without a reading, the models again on what it receives.
 */
export const DEVICE_STAGES = ['gate', 'duplicates', 'orientation', 'detection', 'recognition'] as const;
export type DeviceStage = (typeof DEVICE_STAGES)[number];

export interface PolicyPlan {
  /** Stages run on the device before anything is sent. */
  device: DeviceStage[];
  /** Whether a device that has the light models (the capture page) runs them too: an upside-down page is answered on the spot. */
  deviceModels: boolean;
  /** Whether the device's gate refuses a capture (answered on the spot) or only guides the person (the cloud decides). */
  gateRefuses: boolean;
  sent: Sent;
  /** Whether a device that has the recogniser (the capture page) reads its crops itself: the person sees the text at once, and the cloud records that reading. */
  deviceReads: boolean;
  /** Whether an upload goes out as soon as it is queued, or waits for the outbox's next drain (the record is made later). */
  immediate: boolean;
}

export const POLICY_PLANS: Record<EdgePolicy, PolicyPlan> = {
  // Everything that can run here runs here, the reading too; what leaves is the text with its crops
  // (a small copy from a device without the models), when the link allows.
  device: { device: ['gate', 'duplicates'], deviceModels: true, gateRefuses: true, sent: 'crops', deviceReads: true, immediate: false },
  // Gate, filter and find the text here, answer at once: the cloud reads only the text regions, never the original.
  hybrid: { device: ['gate', 'duplicates'], deviceModels: false, gateRefuses: true, sent: 'crops', deviceReads: false, immediate: true },
  // The cloud sees the original; the device's gate only guides the person holding the camera.
  cloud: { device: ['gate'], deviceModels: false, gateRefuses: false, sent: 'original', deviceReads: false, immediate: true },
};

/** Where the capture page learns the deployment's policy (`edge.policy` of the server's configuration): `CapturePolicyAnswer`. */
export const CAPTURE_POLICY_PATH = '/web/capture/policy.json';

export interface CapturePolicyAnswer {
  policy: EdgePolicy;
}

/** How much of a capture leaves the device with each kind of upload, least first. */
const SENT_ORDER: readonly Sent[] = ['crops', 'downscaled', 'original'];

/**
 * The policy a capture link may choose (`/capture?policy=...`) under the deployment's: one that
 * sends no more of a capture than the deployment's own. A deployment that never sends originals
 * (`device`, `hybrid`) keeps a link asking for `cloud` from sending them; without a choice the
 * deployment's policy holds. `chosen` is false when the link asked for one it may not have.
 */
export function linkPolicy(deployment: EdgePolicy, asked: EdgePolicy | null): { policy: EdgePolicy; chosen: boolean } {
  if (asked === null) return { policy: deployment, chosen: true };
  const allowed = SENT_ORDER.indexOf(POLICY_PLANS[asked].sent) <= SENT_ORDER.indexOf(POLICY_PLANS[deployment].sent);
  return allowed ? { policy: asked, chosen: true } : { policy: deployment, chosen: false };
}

/**
 * Whether a deployment takes an edge upload sent as `sent`: one that never sends originals
 * (`device`, `hybrid`) refuses an original from a device set to `cloud`, so a privacy promise
 * holds at the server whatever each device was configured to do.
 */
export function deploymentTakes(deployment: EdgePolicy, sent: Sent): boolean {
  return sent !== 'original' || POLICY_PLANS[deployment].sent === 'original';
}

/** What a device without a text detector (its model did not load) sends instead of what its plan says. */
export function sentWithoutDetector(sent: Sent): Sent {
  return sent === 'crops' ? 'downscaled' : sent;
}

/** The long side, in pixels, of the copy sent under `device` and `hybrid`: the detector reads pages at 960, so 1600 leaves it room. */
export const DOWNSCALED_LONG_SIDE = 1600;

export const edgePolicySchema = z.enum(EDGE_POLICIES);
