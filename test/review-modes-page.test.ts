import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { intersectionOverUnion } from '../src/core/postprocess/nms.js';
import { reviewPageBench, type ReviewPageBench } from './helpers/review-page.js';
import { seedModelTask } from './helpers/task-review.js';
import { workbench } from './fixtures/scenes.js';

// The page is the built one (dist/web): run `npm run build` first.
const REVIEW_KEY = 'vo_modes-page-test-key';
const HOSTILE = '<img src=x onerror="window.__xss = 1">';

let bench: ReviewPageBench;

before(async () => {
  bench = await reviewPageBench(REVIEW_KEY, 'visionops-review-modes-page-');
});
after(async () => {
  await bench?.close();
});

test('in Chromium, classification mode shows the candidates with scores; a number key and Enter send a label', async () => {
  const { image } = await workbench(31, 2, 480, 360);
  const seeded = await seedModelTask(bench.fixture, image, {
    labels: [
      { label: 'scratch', score: 0.48 },
      { label: 'dent', score: 0.41 },
      { label: HOSTILE, score: 0.11 },
    ],
  });
  const page = await bench.browser.newPage({ viewport: { width: 1300, height: 900 } });
  await bench.signIn(page);
  await page.locator('#candidates button').first().waitFor();
  const shown = await page.locator('#candidates button').allTextContents();
  assert.deepEqual(shown, ['1scratch0.480', '2dent0.410', `3${HOSTILE}0.110`], 'labels best first, with their scores and keys');
  assert.equal(await page.locator('#candidates img').count(), 0, 'a label is shown as text, never parsed');
  assert.equal(await page.locator('#candidates button[aria-pressed="true"]').textContent(), '1scratch0.480', 'the top label is chosen first');
  assert.equal(await page.locator('#keys-classify').isVisible(), true);
  assert.equal(await page.locator('#lines li').count(), 0);

  await page.keyboard.press('3');
  await page.keyboard.press('ArrowUp');
  assert.equal(await page.locator('#candidates button[aria-pressed="true"]').textContent(), '2dent0.410');
  await page.keyboard.press('Enter');
  await page.locator('#empty').waitFor({ state: 'visible' });
  const task = await bench.stored(seeded.id);
  assert.equal(task.status, 'done');
  assert.equal(task.answer.label, 'dent');
  assert.equal(task.answer.verdict, 'correct');
  assert.equal(task.answer.by, 'ana');
  assert.equal(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss), undefined);
  await page.close();
});

test('in Chromium on a phone-sized screen, a reviewer types a label the model did not offer', async () => {
  const { image } = await workbench(32, 2, 480, 360);
  const seeded = await seedModelTask(bench.fixture, image, { labels: [{ label: 'ok', score: 0.7 }, { label: 'dent', score: 0.3 }] });
  const page = await bench.browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await bench.signIn(page);
  await page.locator('#candidates button').first().waitFor();
  const overflow = await page.evaluate(() => {
    const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
    return root.scrollWidth - root.clientWidth;
  });
  assert.ok(overflow <= 0, `nothing overflows the phone's width (${overflow} px)`);
  const button = await page.locator('#candidates button').first().boundingBox();
  assert.ok(button !== null && button.height >= 44, 'candidates are large enough to tap');

  await page.keyboard.press('l');
  await page.keyboard.type('crack');
  await page.keyboard.press('Enter');
  await page.locator('#empty').waitFor({ state: 'visible' });
  const task = await bench.stored(seeded.id);
  assert.equal(task.answer.label, 'crack');
  assert.equal(task.answer.verdict, 'correct');
  await page.close();
});

test('in Chromium, detection mode: confirm, relabel and delete boxes with the keyboard, draw a missing one with the mouse', async () => {
  const { image, objects } = await workbench(33, 4, 640, 480);
  const [first, second, third, missed] = objects;
  const seeded = await seedModelTask(bench.fixture, image, {
    boxes: [
      { ...first, score: 0.91 },
      { label: 'bolt', box: second.box, score: 0.55 },
      { label: 'washer', box: third.box, score: 0.4 },
    ],
  });
  assert.notEqual(second.label, 'bolt', 'the model mislabels the second part');
  const page = await bench.browser.newPage({ viewport: { width: 1300, height: 900 } });
  await bench.signIn(page);
  await page.locator('#objects li').first().waitFor();
  assert.equal(await page.locator('#objects li').count(), 3);
  assert.equal(await page.locator('#boxes rect').count(), 3, 'the boxes are drawn over the image');
  assert.equal(await page.locator('#keys-detect').isVisible(), true);

  await page.keyboard.press(' ');
  assert.match((await page.locator('#objects li').first().textContent()) ?? '', /confirmed/);
  assert.equal(await page.locator('#objects li[aria-current="true"]').count(), 1);
  await page.keyboard.press('r');
  await page.locator('#box-label').waitFor({ state: 'visible' });
  await page.locator('#box-label').fill(second.label);
  await page.keyboard.press('Enter');
  await page.keyboard.press('j');
  await page.keyboard.press('Delete');
  assert.match((await page.locator('#objects li').nth(2).textContent()) ?? '', /removed/);

  const svg = await page.locator('#boxes').boundingBox();
  assert.ok(svg !== null);
  const toScreen = (x: number, y: number) => [svg.x + (x / 640) * svg.width, svg.y + (y / 480) * svg.height] as const;
  const [x1, y1] = toScreen(missed.box[0], missed.box[1]);
  const [x2, y2] = toScreen(missed.box[2], missed.box[3]);
  await page.mouse.move(x1, y1);
  await page.mouse.down();
  await page.mouse.move((x1 + x2) / 2, (y1 + y2) / 2, { steps: 4 });
  await page.mouse.move(x2, y2, { steps: 4 });
  await page.mouse.up();
  await page.locator('#box-label').waitFor({ state: 'visible' });
  await page.locator('#box-label').fill(missed.label);
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('#boxes rect').count(), 4);
  await page.keyboard.press('c');
  await page.locator('#empty').waitFor({ state: 'visible' });

  const task = await bench.stored(seeded.id);
  assert.equal(task.answer.verdict, 'correct');
  const boxes: { label: string; box: [number, number, number, number] }[] = task.answer.boxes;
  assert.deepEqual(boxes.slice(0, 2), [
    { label: first.label, box: first.box },
    { label: second.label, box: second.box },
  ]);
  assert.equal(boxes.length, 3, 'the deleted box is gone');
  assert.equal(boxes[2].label, missed.label);
  const iou = intersectionOverUnion(boxes[2].box, missed.box);
  assert.ok(iou > 0.9, `the drawn box covers the missed part (IoU ${iou.toFixed(3)})`);
  assert.equal(task.answer.linesReviewed, 3);
  assert.equal(task.answer.linesChanged, 2, 'one relabelled, one deleted');
  assert.equal(task.answer.boxesAdded, 1);
  await page.close();
});

/** A 640 x 480 workbench of two parts, seeded as a detection task the model got right, open in the review page. */
async function openDetectionTask(seed: number) {
  const { image, objects } = await workbench(seed, 2, 640, 480);
  const seeded = await seedModelTask(bench.fixture, image, { boxes: objects.map((object) => ({ ...object, score: 0.8 })) });
  const page = await bench.browser.newPage({ viewport: { width: 1300, height: 900 } });
  await bench.signIn(page);
  await page.locator('#objects li').first().waitFor();
  const svg = await page.locator('#boxes').boundingBox();
  assert.ok(svg !== null);
  return { objects, seeded, page, svg };
}

test('in Chromium, detection mode: drag the selected box to move it, drag its corner to resize it, Shift+arrows nudge it', async () => {
  const { objects, seeded, page, svg } = await openDetectionTask(35);
  const [first, second] = objects;
  const scale = svg.width / 640;
  const toScreen = (x: number, y: number) => [svg.x + x * scale, svg.y + (y / 480) * svg.height] as const;
  const drag = async (from: readonly [number, number], to: readonly [number, number]) => {
    await page.mouse.move(...from);
    await page.mouse.down();
    await page.mouse.move((from[0] + to[0]) / 2, (from[1] + to[1]) / 2, { steps: 3 });
    await page.mouse.move(...to, { steps: 3 });
    await page.mouse.up();
  };
  const [x1, y1, x2, y2] = first.box;
  // The first box is selected: dragging from its middle moves it 30 image pixels right and 20 down.
  const middle = toScreen((x1 + x2) / 2, (y1 + y2) / 2);
  await drag(middle, [middle[0] + 30 * scale, middle[1] + (20 / 480) * svg.height]);
  // Its bottom-right corner (where it is now) dragged 15 pixels further out grows it.
  const corner = toScreen(x2 + 30, y2 + 20);
  await drag(corner, [corner[0] + 15 * scale, corner[1] + (15 / 480) * svg.height]);
  assert.equal(await page.locator('#boxes rect').count(), 2, 'moving and resizing draw no new box');
  // The second box, nudged left twice by the keyboard (a hundredth of the long side, 6.4 -> 6 pixels, each).
  await page.keyboard.press('j');
  await page.keyboard.press('Shift+ArrowLeft');
  await page.keyboard.press('Shift+ArrowLeft');
  await page.keyboard.press('c');
  await page.locator('#empty').waitFor({ state: 'visible' });

  const task = await bench.stored(seeded.id);
  const [moved, nudged] = task.answer.boxes as { label: string; box: [number, number, number, number] }[];
  assert.equal(moved.label, first.label);
  const near = (actual: number[], expected: number[]) => actual.every((value, i) => Math.abs(value - expected[i]) <= 2);
  assert.ok(near(moved.box, [x1 + 30, y1 + 20, x2 + 45, y2 + 35]), `moved then grown: ${JSON.stringify(moved.box)} from ${JSON.stringify(first.box)}`);
  assert.deepEqual(nudged.box, [second.box[0] - 12, second.box[1], second.box[2] - 12, second.box[3]]);
  await page.close();
});

test('in Chromium, a detection the reviewer only confirms is kept as a confirmation; a click selects a box', async () => {
  const { objects, seeded, page, svg } = await openDetectionTask(34);
  const [x1, y1, x2, y2] = objects[1].box;
  await page.mouse.click(svg.x + (((x1 + x2) / 2) / 640) * svg.width, svg.y + (((y1 + y2) / 2) / 480) * svg.height);
  assert.equal(await page.locator('#objects li').nth(1).getAttribute('aria-current'), 'true', 'clicking inside a box selects it');
  assert.equal(await page.locator('#boxes rect').count(), 2, 'a click draws nothing');
  await page.locator('#send-boxes').click();
  await page.locator('#empty').waitFor({ state: 'visible' });
  const task = await bench.stored(seeded.id);
  assert.equal(task.answer.verdict, 'confirm');
  assert.equal(task.answer.linesChanged, 0);
  await page.close();
});
