import { z } from 'zod';

/**
 * Where the work on one capture runs. The decision table in docs/edge.md says which to choose from
 * the latency budget, the bandwidth, privacy and connectivity; this table says what each one does.
 */
export const EDGE_POLICIES = ['device', 'hybrid', 'cloud'] as const;
export type EdgePolicy = (typeof EDGE_POLICIES)[number];

/** What a device sends for a capture the gate let through: the file as it was, or a re-encoded, downscaled copy without its metadata. */
export type Sent = 'original' | 'downscaled';

/**
 * Stages a device can run itself: `orientation` is the built-in detector and 0/180 classifier in
 * onnxruntime-web (the capture page only). The cloud always runs its own gate and the models again on what it receives.
 */
export type DeviceStage = 'gate' | 'duplicates' | 'orientation';

export interface PolicyPlan {
  /** Stages run on the device before anything is sent. */
  device: DeviceStage[];
  /** Whether a device that has the light models (the capture page) runs them too: an upside-down page is answered on the spot. */
  deviceModels: boolean;
  /** Whether the device's gate refuses a capture (answered on the spot) or only guides the person (the cloud decides). */
  gateRefuses: boolean;
  sent: Sent;
  /** Whether an upload goes out as soon as it is queued, or waits for the outbox's next drain (the record is made later). */
  immediate: boolean;
}

export const POLICY_PLANS: Record<EdgePolicy, PolicyPlan> = {
  // Everything that can run here runs here; what leaves is a small copy, when the link allows.
  device: { device: ['gate', 'duplicates'], deviceModels: true, gateRefuses: true, sent: 'downscaled', immediate: false },
  // Gate and filter here, answer at once: the cloud reads a downscaled page, never the original.
  hybrid: { device: ['gate', 'duplicates'], deviceModels: false, gateRefuses: true, sent: 'downscaled', immediate: true },
  // The cloud sees the original; the device's gate only guides the person holding the camera.
  cloud: { device: ['gate'], deviceModels: false, gateRefuses: false, sent: 'original', immediate: true },
};

/** The long side, in pixels, of the copy sent under `device` and `hybrid`: the detector reads pages at 960, so 1600 leaves it room. */
export const DOWNSCALED_LONG_SIDE = 1600;

export const edgePolicySchema = z.enum(EDGE_POLICIES);
