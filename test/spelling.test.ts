import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ctcDecodeSteps, ctcStepSummary } from '../src/core/postprocess/ctc.js';
import { spellWords, type Lexicon, type ReadCharacter, type Spelling } from '../src/core/text/spelling.js';
import { pipelineConfigSchema } from '../src/pipeline/config.js';
import { englishLexicon } from '../src/pipeline/lexicon.js';

function lexicon(offered: string[], known: string[] = []): Lexicon {
  const offers = (word: string) => offered.includes(word.toUpperCase());
  return { offers, knows: (word) => offers(word) || known.includes(word.toUpperCase()) };
}

const SPELLING: Spelling = { lexicon: lexicon(['TOTAL', 'AMOUNT', 'SALE', 'TOTE'], ['SOLE']), least: 0.1, shortest: 4 };

/** Characters as read, with runner-ups: `{ 4: { instead: ['l', 0.3] } }` puts an 'l' second at the fifth character. */
function read(text: string, alternatives: Record<number, { instead?: [string, number]; before?: [string, number] }> = {}): ReadCharacter[] {
  return [...text].map((character, i) => {
    const { instead, before } = alternatives[i] ?? {};
    return {
      character,
      instead: instead === undefined ? undefined : { character: instead[0], share: instead[1] },
      before: before === undefined ? undefined : { character: before[0], share: before[1] },
    };
  });
}

test('a word the lexicon does not know takes the runner-up that makes it one, in the word\'s case', () => {
  assert.equal(spellWords(read('Totai 12.50', { 4: { instead: ['L', 0.3] } }), SPELLING), 'Total 12.50');
  assert.equal(spellWords(read('TOTAI', { 4: { instead: ['l', 0.3] } }), SPELLING), 'TOTAL');
  assert.equal(spellWords(read('amunt', { 2: { before: ['O', 0.2] } }), SPELLING), 'amount', 'a character the model nearly read on the blank steps before one');
  assert.equal(spellWords(read('(Totai:', { 5: { instead: ['l', 0.3] } }), SPELLING), '(Total:', 'punctuation around a word stays');
});

test('a word stays as read when the lexicon knows it, the model did not doubt it, or it is short, numeric or no word', () => {
  assert.equal(spellWords(read('SOLE', { 1: { instead: ['A', 0.6] } }), SPELLING), 'SOLE', 'known: never changed');
  assert.equal(spellWords(read('Totai', { 4: { instead: ['l', 0.05] } }), SPELLING), 'Totai', 'the runner-up under the least share');
  assert.equal(spellWords(read('Totai', { 4: { instead: ['1', 0.9] } }), SPELLING), 'Totai', 'a digit is no letter of a word');
  assert.equal(spellWords(read('SLE', { 1: { before: ['A', 0.9] } }), SPELLING), 'SLE', 'shorter than four letters');
  assert.equal(spellWords(read('T0tai', { 4: { instead: ['l', 0.9] } }), SPELLING), 'T0tai', 'a token with a digit inside is a code');
  assert.equal(spellWords(read('Xyzzy plugh'), SPELLING), 'Xyzzy plugh', 'no runner-up: nothing to go on');
});

test('of two changes into words the lexicon offers, the one the model ranked higher wins', () => {
  const spelling: Spelling = { ...SPELLING, lexicon: lexicon(['MEAT', 'MOAN']) };
  assert.equal(spellWords(read('MOAT', { 1: { instead: ['E', 0.2] }, 3: { instead: ['N', 0.5] } }), spelling), 'MOAN');
  assert.equal(spellWords(read('MOAT', { 1: { instead: ['E', 0.5] }, 3: { instead: ['N', 0.2] } }), spelling), 'MEAT');
});

test('CTC decoding hands the runner-ups of a step summary to the spelling pass', () => {
  const alphabet = ['blank', 'c', 'a', 't', 'r', ' '];
  // c, a, blank (r second at 0.35 of the blank), t: greedy reads "cat".
  const rows: [number, number, number][] = [
    [1, 0.9, 0],
    [2, 0.9, 0],
    [0, 0.6, 4],
    [3, 0.9, 0],
  ];
  const probs = new Float32Array(rows.length * alphabet.length);
  rows.forEach(([best, prob, second], t) => {
    const row = probs.subarray(t * alphabet.length, (t + 1) * alphabet.length);
    row.fill(0.01);
    row[best] = prob;
    if (second > 0) row[second] = 0.21;
  });
  const summary = ctcStepSummary(probs, 1, rows.length, alphabet.length, alphabet);
  assert.equal(summary[2 * 5 + 3], 4, 'the runner-up class of the blank step');
  const spelling: Spelling = { lexicon: lexicon(['CART']), least: 0.1, shortest: 3 };
  assert.equal(ctcDecodeSteps(summary, 1, rows.length, alphabet)[0].text, 'cat');
  assert.equal(ctcDecodeSteps(summary, 1, rows.length, alphabet, {}, spelling)[0].text, 'cart');
  assert.equal(ctcDecodeSteps(summary, 1, rows.length, alphabet, {}, { ...spelling, least: 0.4 })[0].text, 'cat', '0.21 / 0.6 = 0.35 of the blank');
  assert.ok(Math.abs(ctcDecodeSteps(summary, 1, rows.length, alphabet, {}, spelling)[0].confidence - 0.9) < 1e-6, 'the confidence stays what the model chose');
});

test('the English lexicon knows inflections and trade words, and offers only common words (a capitalised one when it is no name)', async () => {
  const english = await englishLexicon(['Kopitiam']);
  for (const word of ['respondents', 'SUBTOTAL', 'colour', 'color', 'Receipt']) assert.ok(english.knows(word), word);
  for (const word of ['TOTAL', 'amount', 'September', 'KOPITIAM', 'THANK', 'SUBTOTAL']) assert.ok(english.offers(word), word);
  for (const word of ['Totai', 'amunt', 'SEPTCMBER']) assert.ok(!english.knows(word), word);
  assert.ok(!english.offers('Alan'), 'a name is not offered');
  assert.ok(!english.offers('respondents'), 'known, too rare to offer');
});

test('spelling is on by default and can be turned off', () => {
  assert.deepEqual(pipelineConfigSchema.parse({}).recognition.spelling, { least: 0.1, shortest: 4, words: [] });
  assert.equal(pipelineConfigSchema.parse({ recognition: { spelling: null } }).recognition.spelling, null);
  assert.throws(() => pipelineConfigSchema.parse({ recognition: { spelling: { least: 2 } } }));
});
