import type { Config } from '../config/schema.js';
import { decideDocument } from '../core/decision/document.js';
import { describeFrame } from '../core/monitor/descriptor.js';
import type { MonitorObservation } from '../core/monitor/features.js';
import { runQualityGate } from '../core/quality/gate.js';
import { ingestImage } from '../image/ingest.js';
import type { DocumentPipeline } from '../pipeline/document.js';
import type { RecordedPrediction } from '../pipeline/service.js';

/** The monitor's view of a saved prediction: its gate report, lines, decision and the image's descriptor. */
export function observationOf({ record, image }: RecordedPrediction): MonitorObservation {
  return {
    quality: record.quality,
    lines: record.result === null ? null : record.result.lines.map((line) => ({ text: line.text, confidence: line.confidence })),
    decision: record.decision,
    descriptor: describeFrame(image.frame, image.luma),
  };
}

/**
 * The monitor's view of an image read outside the prediction service, for reference profiles and
 * measurements: ingest, gate and descriptor, then the pipeline when one is given and the gate
 * passes, decided as the service decides. Without a pipeline (`visionops profile --gate-only`,
 * scripts/measure-drift.ts) no line is read and a page the gate passes counts as accepted.
 */
export async function observeImage(bytes: Uint8Array, config: Config, pipeline: DocumentPipeline | null = null): Promise<MonitorObservation> {
  const image = await ingestImage(bytes, config.ingest);
  const quality = runQualityGate(image.frame, config.quality, image.luma);
  const descriptor = describeFrame(image.frame, image.luma);
  if (quality.verdict === 'fail') return { quality, lines: null, decision: 'reject', descriptor };
  if (pipeline === null) return { quality, lines: null, decision: 'accept', descriptor };
  const { result } = await pipeline.read(image.frame, { exifOrientation: image.exifOrientation });
  const { decision } = decideDocument(quality, result, config.pipeline.decision);
  return { quality, lines: result.lines.map((line) => ({ text: line.text, confidence: line.confidence })), decision, descriptor };
}
