import type { Config } from '../config/schema.js';
import { describeFrame } from '../core/monitor/descriptor.js';
import type { MonitorObservation } from '../core/monitor/features.js';
import { isDocumentResult, type TaskResult } from '../core/records/prediction.js';
import type { Pipeline } from '../pipeline/contract.js';
import { configuredPipeline } from '../pipeline/pipelines.js';
import { pathSettings, StageRunner, type RecordedPrediction } from '../pipeline/runner.js';

/** The monitor's view of a saved prediction: its gate report, lines, decision and the descriptor of what the gate saw. */
export function observationOf({ record, frame, gray }: RecordedPrediction): MonitorObservation {
  return { quality: record.quality, lines: linesOf(record.result), decision: record.decision, descriptor: describeFrame(frame, gray) };
}

/**
 * The monitor's view of an image read outside the prediction service, for reference profiles and
 * measurements: the production stage runner of the pipeline (the default, or the one named),
 * stopped at the decision; without a pipeline (`visionops profile --gate-only`,
 * scripts/measure-drift.ts) stopped at the gate, where no line is read and an image the gate
 * passes counts as accepted.
 */
export function observeImage(bytes: Uint8Array, config: Config, pipeline: Pipeline | null = null): Promise<MonitorObservation> {
  return observe(new StageRunner(pathSettings(config, configuredPipeline(config, pipeline?.name).settings), pipeline), bytes);
}

/** What `observeImage` tells, from a stage runner the composition root built (`visionops profile`). */
export async function observe(runner: StageRunner, bytes: Uint8Array): Promise<MonitorObservation> {
  if (runner.pipeline === null) {
    const { quality, frame, gray } = await runner.run(bytes, { until: 'gate' });
    return { quality, lines: null, decision: quality.verdict === 'fail' ? 'reject' : 'accept', descriptor: describeFrame(frame, gray) };
  }
  const { quality, result, decision, frame, gray } = await runner.run(bytes, { until: 'decide' });
  return { quality, lines: linesOf(result), decision, descriptor: describeFrame(frame, gray) };
}

function linesOf(result: TaskResult | null): MonitorObservation['lines'] {
  return result === null || !isDocumentResult(result) ? null : result.lines.map((line) => ({ text: line.text, confidence: line.confidence }));
}
