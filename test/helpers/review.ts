import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Quad } from '../../src/core/postprocess/geometry.js';
import type { Decision, PredictionRecord } from '../../src/core/records/prediction.js';
import type { Stores } from '../../src/store/open.js';
import type { ReviewStore } from '../../src/store/store.js';
import type { ReviewKind, ReviewTask } from '../../src/core/records/review.js';
import { createFileBlobStore } from '../../src/store/blobs.js';
import { openSqliteStores } from '../../src/store/sqlite/index.js';
import type { BlobStore, PredictionStore } from '../../src/store/store.js';
import { renderDocument } from '../fixtures/documents.js';
import { record } from '../fixtures/records.js';
import { documentOf } from './results.js';

export const MODELS = [
  { role: 'detection', id: 'ch_PP-OCRv4_det', version: '1.4.2', sha256: 'b'.repeat(64), preprocessHash: 'c'.repeat(64) },
  { role: 'recognition', id: 'ch_PP-OCRv4_rec', version: '1.4.2', sha256: 'd'.repeat(64), preprocessHash: 'e'.repeat(64) },
];
export const MODEL_VERSION = 'ch_PP-OCRv4_det@1.4.2 + ch_PP-OCRv4_rec@1.4.2';

/** A settable clock, in milliseconds, so leases expire without waiting. */
export class TestClock {
  constructor(public ms = Date.parse('2026-11-25T09:00:00Z')) {}
  now = () => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

export interface ReviewFixture {
  dir: string;
  file: string;
  predictions: PredictionStore;
  reviews: ReviewStore;
  blobs: BlobStore;
  clock: TestClock;
  /** Every store, the review store on the test clock: what `createVisionops` takes as its `stores` override. */
  stores: Stores;
}

/** Fresh stores in a temporary data directory, the review store on a test clock. */
export function reviewFixture(prefix = 'visionops-review-'): ReviewFixture {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const file = join(dir, 'visionops.db');
  const clock = new TestClock();
  const opened = openSqliteStores(file, { now: clock.now });
  const stores: Stores = {
    predictions: opened.predictions,
    reviews: opened.reviews,
    monitor: opened.monitor,
    models: opened.models,
    blobs: createFileBlobStore(join(dir, 'blobs')),
    close: () => opened.close(),
  };
  return { dir, file, predictions: stores.predictions, reviews: stores.reviews, blobs: stores.blobs, clock, stores };
}

export interface ReadLine {
  text: string;
  confidence: number;
}

/** renderDocument's geometry (32 px font, margins of 1.5 font sizes, 1.8 line spacing), so the boxes fall on the text. */
export function boxOfRenderedLine(index: number, width: number, fontSize = 32): Quad {
  const margin = Math.round(fontSize * 1.5);
  const lineHeight = Math.round(fontSize * 1.8);
  const top = margin + lineHeight * index - Math.round(fontSize * 0.1);
  const bottom = top + Math.round(fontSize * 1.2);
  const right = width - margin;
  return [[margin - 4, top], [right, top], [right, bottom], [margin - 4, bottom]];
}

/** A full prediction record (test/fixtures/records.ts) whose model read `lines`, boxed where renderDocument draws them. */
export function predictionRecord(decision: Decision, lines: ReadLine[], width = 900): PredictionRecord {
  const base = record(decision);
  return {
    ...base,
    image: { ...base.image, width },
    reasons: decision === 'review' ? base.reasons : [],
    result: {
      text: lines.map((line) => line.text).join('\n'),
      lines: lines.map((line, index) => ({ ...line, box: boxOfRenderedLine(index, width) })),
      orientation: { rotation: 0, source: 'none' },
    },
    lineage: { ...base.lineage, models: MODELS },
    blob: null,
  };
}

/**
 * A saved prediction whose page shows `truth` and whose model read `lines`, with its review task:
 * what the observer would have made, without running the models.
 */
export async function seedTask(fixture: ReviewFixture, options: { truth: string[]; read: ReadLine[]; kind?: ReviewKind; width?: number }): Promise<ReviewTask> {
  const width = options.width ?? 900;
  const image = await renderDocument({ lines: options.truth, width });
  const kind = options.kind ?? 'review';
  const record = predictionRecord(kind === 'review' ? 'review' : 'accept', options.read, width);
  const blob = await fixture.blobs.put(image);
  await fixture.predictions.save({ ...record, blob: kind === 'review' ? blob : null });
  const height = Math.round(32 * 1.5) * 2 + Math.round(32 * 1.8) * options.truth.length;
  return fixture.reviews.create({
    predictionId: record.id,
    kind,
    modelVersion: MODEL_VERSION,
    blob,
    modelOutput: { lines: record.result ? documentOf(record.result).lines : [], rotation: 0, width, height },
  });
}

export async function closeFixture(fixture: ReviewFixture): Promise<void> {
  await fixture.stores.close();
}
