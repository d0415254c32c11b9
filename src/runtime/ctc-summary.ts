import { CTC_STEP_FIELDS, ctcStepSummary } from '../core/postprocess/ctc.js';
import type { ModelManifest } from './manifest.js';
import type { ModelSession, TensorData } from './session.js';

/**
 * A CTC model's outputs ([N, steps, classes] probabilities) as per-step summaries ([N, steps, 3]:
 * `ctcStepSummary`), the form the document pipeline's recognition sessions answer in. Greedy
 * decoding reads nothing else, and a line's summary is a few hundred bytes where its
 * probabilities are megabytes that the thread receiving them would copy and collect. Outputs of
 * other models pass unchanged.
 */
export function summarizeCtcOutputs(manifest: ModelManifest, outputs: Record<string, TensorData>): Record<string, TensorData> {
  if (manifest.postprocess.kind !== 'ctc') return outputs;
  const labels = manifest.labels ?? [];
  const summaries: Record<string, TensorData> = {};
  for (const [name, { data, dims }] of Object.entries(outputs)) {
    const [batch, steps, classes] = dims;
    summaries[name] = { data: ctcStepSummary(data, batch, steps, classes, labels), dims: [batch, steps, CTC_STEP_FIELDS] };
  }
  return summaries;
}

/** The session, answering as `summarizeCtcOutputs` does. */
export function summarizingCtc(session: ModelSession): ModelSession {
  if (session.manifest.postprocess.kind !== 'ctc') return session;
  return {
    manifest: session.manifest,
    run: async (feeds) => summarizeCtcOutputs(session.manifest, await session.run(feeds)),
    close: () => session.close(),
  };
}
