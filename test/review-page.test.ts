import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { seedTask } from './helpers/review.js';
import { reviewPageBench, type ReviewPageBench } from './helpers/review-page.js';

// The page is the built one (dist/web): run `npm run build` first.
const REVIEW_KEY = 'vo_page-test-review-key';
const HOSTILE = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">';

let bench: ReviewPageBench;

before(async () => {
  bench = await reviewPageBench(REVIEW_KEY);
});
after(async () => {
  await bench?.close();
});

test('in Chromium, a reviewer signs in, corrects a line with the keyboard alone, and the API keeps the answer', async () => {
  const seeded = await seedTask(bench.fixture, {
    truth: ['Invoice 20417 paid', 'Total amount: 1250.40', 'Customer account 88213'],
    read: [
      { text: 'Invoice 20417 paid', confidence: 0.99 },
      { text: 'Totl amount: 1250.40', confidence: 0.62 },
      { text: 'Customer account 88213', confidence: 0.97 },
    ],
  });
  const page = await bench.browser.newPage({ viewport: { width: 1300, height: 900 } });
  await bench.signIn(page);
  await page.locator('#lines li').first().waitFor();
  assert.equal(await page.locator('#pending').textContent(), '0', 'the claimed task no longer waits');
  const order = await page.locator('#lines li').evaluateAll((items) => items.map((item) => (item as unknown as { dataset: { index: string } }).dataset.index));
  assert.deepEqual(order, ['1', '2', '0'], 'least confident first');
  assert.equal(await page.locator('#lines li canvas').count(), 3, 'each line has its crop');
  assert.equal(await page.locator('#boxes polygon').count(), 3, 'the page shows the detected boxes');
  // Runs in the page, where the element is a canvas; this file is type-checked without the DOM library.
  const cropInk = await page.locator('#lines li canvas').first().evaluate((canvas) => {
    const c = canvas as unknown as { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
    const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let dark = 0;
    for (let i = 0; i < pixels.length; i += 4) if (pixels[i] < 100) dark++;
    return dark;
  });
  assert.ok(cropInk > 50, `the crop shows the line's ink (${cropInk} dark pixels)`);

  await page.keyboard.press('e');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('Total amount: 1250.40');
  await page.keyboard.press('Enter');
  await page.keyboard.press('j');
  await page.keyboard.press('k');
  await page.keyboard.press('c');
  await page.locator('#empty').waitFor({ state: 'visible' });

  const stored = await bench.stored(seeded.id);
  assert.equal(stored.status, 'done');
  assert.equal(stored.answer.verdict, 'correct');
  assert.equal(stored.answer.by, 'ana');
  assert.deepEqual(stored.answer.lines[1], { index: 1, modelText: 'Totl amount: 1250.40', text: 'Total amount: 1250.40' });
  assert.equal(stored.answer.linesChanged, 1);
  await page.close();
});

test('in Chromium, a transcription holding <script> shows as text and runs nothing; u sends unusable with its reason', async () => {
  const seeded = await seedTask(bench.fixture, { truth: ['Invoice 20417 paid'], read: [{ text: HOSTILE, confidence: 0.5 }] });
  const page = await bench.browser.newPage();
  await bench.signIn(page);
  await page.locator('#lines li').first().waitFor();
  assert.equal(await page.locator('#lines li .text').first().textContent(), HOSTILE);
  assert.equal(await page.locator('#lines script, #lines img').count(), 0, 'no element was made from the text');
  assert.equal(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss), undefined);

  await page.keyboard.press('u');
  await page.locator('#reason').fill('glare');
  await page.keyboard.press('Enter');
  await page.locator('#empty').waitFor({ state: 'visible' });
  const stored = await bench.stored(seeded.id);
  assert.equal(stored.answer.verdict, 'unusable');
  assert.equal(stored.answer.reason, 'glare');
  await page.close();
});
