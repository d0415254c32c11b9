import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideDocument } from '../src/core/decision/document.js';
import type { QualityCheck, QualityReport } from '../src/core/quality/types.js';

const options = { reviewThreshold: 0.8 };

function check(name: string, verdict: QualityCheck['verdict'], guidance: string | null = null): QualityCheck {
  return { name, score: 0.1, threshold: 0.15, verdict, guidance };
}

function report(...checks: QualityCheck[]): QualityReport {
  const verdict = checks.some((c) => c.verdict === 'fail') ? 'fail' : checks.some((c) => c.verdict === 'warn') ? 'warn' : 'pass';
  return { verdict, checks, guidance: checks.flatMap((c) => (c.guidance ? [c.guidance] : [])) };
}

const line = (text: string, confidence: number) => ({ text, confidence });

test('a failed gate rejects, with one reason per failing check carrying its guidance', () => {
  const quality = report(
    check('resolution', 'pass'),
    check('blur', 'fail', 'Hold the camera still.'),
    check('exposure', 'warn', 'Add light.'),
    check('information', 'fail', 'Point the camera at the document.'),
  );
  assert.deepEqual(decideDocument(quality, null, options), {
    decision: 'reject',
    reasons: [
      { code: 'QUALITY_FAILED:blur', message: 'Hold the camera still.' },
      { code: 'QUALITY_FAILED:information', message: 'Point the camera at the document.' },
    ],
  });
});

test('a failed gate rejects even when text was read', () => {
  const outcome = decideDocument(report(check('blur', 'fail', 'Hold still.')), { lines: [line('Total 12.00', 0.99)] }, options);
  assert.equal(outcome.decision, 'reject');
});

test('a line below the threshold sends the page to review, naming the line and its confidence', () => {
  const outcome = decideDocument(report(check('blur', 'pass')), { lines: [line('Invoice 1234', 0.97), line('Totl 12.0O', 0.62)] }, options);
  assert.equal(outcome.decision, 'review');
  assert.equal(outcome.reasons.length, 1);
  assert.equal(outcome.reasons[0].code, 'LOW_CONFIDENCE');
  assert.match(outcome.reasons[0].message, /Line 2 "Totl 12\.0O" .*0\.62.*0\.8/);
});

test('a page with no text goes to review', () => {
  for (const result of [null, { lines: [] }]) {
    const outcome = decideDocument(report(check('blur', 'pass')), result, options);
    assert.equal(outcome.decision, 'review');
    assert.deepEqual(outcome.reasons.map((r) => r.code), ['NO_TEXT']);
  }
});

test('a page read confidently is accepted, a gate warning notwithstanding; the threshold itself is enough', () => {
  const outcome = decideDocument(report(check('exposure', 'warn', 'Add light.')), { lines: [line('Total 12.00', 0.8), line('Paid', 0.99)] }, options);
  assert.deepEqual(outcome, { decision: 'accept', reasons: [] });
});

test('text found but not read sends the page to review, even when every line read was confident', () => {
  const outcome = decideDocument(report(check('blur', 'pass')), { lines: [line('Invoice 1234', 0.99)], unreadLines: 1 }, options);
  assert.equal(outcome.decision, 'review');
  assert.deepEqual(outcome.reasons.map((r) => r.code), ['UNREAD_LINES']);
  assert.match(outcome.reasons[0].message, /1 line was found on the page but could not be read/);
  const none = decideDocument(report(check('blur', 'pass')), { lines: [], unreadLines: 2 }, options);
  assert.deepEqual(none.reasons.map((r) => r.code), ['UNREAD_LINES']);
  assert.equal(decideDocument(report(check('blur', 'pass')), { lines: [line('Paid', 0.99)], unreadLines: 0 }, options).decision, 'accept');
});
