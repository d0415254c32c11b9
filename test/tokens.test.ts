import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inCharacterContext } from '../src/core/text/tokens.js';

test('letters that look like digits become digits in a token that is otherwise a number', () => {
  assert.equal(inCharacterContext('TOTAL 1O.5O'), 'TOTAL 10.50');
  assert.equal(inCharacterContext('47500 4750O $O.30 I05 2O18-03-1l'), '47500 47500 $0.30 105 2018-03-11');
  assert.equal(inCharacterContext('(RM) 3O.00%'), '(RM) 30.00%');
});

test("an amount's cents parted from its decimal point are joined to it, other numbers after a full stop are not", () => {
  assert.equal(inCharacterContext('CHARGE 12. 90 RM4. 00'), 'CHARGE 12.90 RM4.00');
  assert.equal(inCharacterContext('No. 12 item 3. 125 step 2. 45kg n0. 24-477'), 'No. 12 item 3. 125 step 2. 45kg n0. 24-477');
});

test('a zero among capital letters becomes an O', () => {
  assert.equal(inCharacterContext('INV0ICE N0: 0VER'), 'INVOICE NO: OVER');
});

test('tokens that mix real letters and digits, and plain words, stay as read', () => {
  for (const text of ['BWM0034 RM10.50 A1 10AM 1O No. I l O', 'Invoice total 12.90', 'H2O 5l 100ml', 'B00', 'ISO9001']) {
    assert.equal(inCharacterContext(text), text);
  }
});

test("a form's fill-in rules read as underscores part words and are dropped", () => {
  assert.equal(inCharacterContext('DATE:____ SAN_ _UNION ___ SAN_DIEGO_UNION'), 'DATE: SAN UNION SAN DIEGO UNION');
  assert.equal(inCharacterContext('____'), '');
});
