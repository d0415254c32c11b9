import assert from 'node:assert/strict';
import { isDocumentResult, type DocumentResult, type TaskResult } from '../../src/core/records/prediction.js';

/** The record's result as a document's, failing the test when it is missing or of another task. */
export function documentOf(result: TaskResult | null | undefined): DocumentResult {
  assert.ok(result != null && isDocumentResult(result), `expected a document result, got ${JSON.stringify(result)}`);
  return result;
}
