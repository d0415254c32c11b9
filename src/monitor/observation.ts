import type { Config } from '../config/schema.js';
import { describeFrame } from '../core/monitor/descriptor.js';
import type { MonitorObservation } from '../core/monitor/features.js';
import { runQualityGate } from '../core/quality/gate.js';
import { ingestImage } from '../image/ingest.js';
import type { RecordedPrediction } from '../pipeline/service.js';

/** The monitor's view of a saved prediction: its gate report, lines, decision and the image's descriptor. */
export function observationOf({ record, image }: RecordedPrediction): MonitorObservation {
  return {
    quality: record.quality,
    lines: record.result === null ? null : record.result.lines.map((line) => ({ text: line.text, confidence: line.confidence })),
    decision: record.decision,
    descriptor: describeFrame(image.frame),
  };
}

/**
 * The monitor's view of an image that no model reads: ingest, gate and descriptor, decided
 * `reject` when the gate fails and `accept` otherwise. For profiles and measurements of the
 * features that need no model (`visionops profile --gate-only`, scripts/measure-drift.ts).
 */
export async function gateObservation(bytes: Uint8Array, config: Config): Promise<MonitorObservation> {
  const image = await ingestImage(bytes, config.ingest);
  const quality = runQualityGate(image.frame, config.quality);
  return { quality, lines: null, decision: quality.verdict === 'fail' ? 'reject' : 'accept', descriptor: describeFrame(image.frame) };
}
