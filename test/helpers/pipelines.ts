import { decideDocument } from '../../src/core/decision/document.js';
import { VisionopsError } from '../../src/core/errors.js';
import type { Quad } from '../../src/core/postprocess/geometry.js';
import type { DocumentResult, TextLine } from '../../src/core/records/prediction.js';
import type { Pipeline } from '../../src/pipeline/contract.js';
import { documentOf } from './results.js';

const documentDecision: Pipeline['decision'] = { rule: (quality, result, settings) => decideDocument(quality, result === null ? null : documentOf(result), settings.decision), judged: (settings) => settings.decision };

async function fixedReading(): Promise<DocumentResult> {
  const box: Quad = [[0, 0], [10, 0], [10, 5], [0, 5]];
  const lines: TextLine[] = [
    { text: 'Invoice 20417 paid', confidence: 0.99 },
    { text: 'Total amount: 1250.40', confidence: 0.97 },
  ].map((line) => ({ ...line, box }));
  return { text: lines.map((line) => line.text).join('\n'), lines, orientation: { rotation: 0, source: 'none' } };
}

/**
 * A pipeline that reads every page (or regions upload) as the same two lines, in no time, for the monitor tests that
 * stream hundreds of pages through the gate, the descriptor and the drift tests (none of which
 * read the models' output). The metrics and dashboard tests run the real models.
 */
export const fixedReadingPipeline: Pipeline = {
  name: 'document',
  task: 'document',
  version: 'stub',
  models: [
    { role: 'detection', stage: 'detection', id: 'stub-det', version: '1', sha256: '0'.repeat(64), preprocessHash: '0'.repeat(64) },
    { role: 'recognition', stage: 'recognition', id: 'stub-rec', version: '1', sha256: '1'.repeat(64), preprocessHash: '1'.repeat(64) },
  ],
  stages: ['detection', 'recognition'],
  decision: documentDecision,
  run: fixedReading,
  readRegions: fixedReading,
  replay() {},
  async close() {},
};

async function noModels(): Promise<never> {
  throw new VisionopsError('INTERNAL', 'This test server has no models: the test should not reach them.');
}

/** A pipeline for tests of routes that never reach the models (review, auth): running it is a test's mistake. */
export const noModelsPipeline: Pipeline = {
  ...fixedReadingPipeline,
  version: 'none',
  models: [],
  stages: [],
  run: noModels,
  readRegions: noModels,
};
