import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import sharp from 'sharp';
import type { Frame } from '../src/core/frame.js';
import { runContentGate } from '../src/core/quality/content-gate.js';
import { qualityConfigSchema } from '../src/core/quality/config.js';
import { BLURRY } from '../src/core/quality/blur.js';
import { TOO_BRIGHT, TOO_DARK } from '../src/core/quality/exposure.js';
import { runQualityGate } from '../src/core/quality/gate.js';
import { gateSettingsSchema } from '../src/core/quality/gate-settings.js';
import { TOO_SMALL } from '../src/core/quality/resolution.js';
import { LOOKS_EMPTY_SCENE } from '../src/core/quality/scene-gate.js';
import type { QualityReport } from '../src/core/quality/types.js';
import { photograph } from './fixtures/captures.js';
import { blank, blurred, exposed, renderDocument } from './fixtures/documents.js';
import { packshot, variedScenes, workbench } from './fixtures/scenes.js';

const quality = qualityConfigSchema.parse({});
const scene = gateSettingsSchema.parse({ content: 'scene' });

async function frameOf(image: Buffer): Promise<Frame> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, data };
}

async function judge(image: Buffer, settings = scene): Promise<QualityReport> {
  return runContentGate(await frameOf(image), quality, settings);
}

const check = (report: QualityReport, name: string) => {
  const found = report.checks.find((c) => c.name === name);
  assert.ok(found, `the report has a ${name} check`);
  return found;
};

let scenes: { name: string; image: Buffer }[];
before(async () => {
  scenes = await variedScenes();
});

test('the scene gate refuses none of a varied set of usable scenes, as shot or slightly soft', async () => {
  assert.ok(scenes.length >= 15);
  const verdicts: string[] = [];
  for (const { name, image } of scenes) {
    for (const [variant, bytes] of [['as shot', image], ['blur 1.5', await blurred(image, 1.5)]] as const) {
      const report = await judge(bytes);
      assert.notEqual(report.verdict, 'fail', `${name} (${variant}) was refused: ${report.guidance.join(' ')}`);
      verdicts.push(report.verdict);
    }
  }
  const passed = verdicts.filter((verdict) => verdict === 'pass').length;
  assert.ok(passed >= verdicts.length - 3, `${passed} of ${verdicts.length} passed without a warning`);
});

test('sharpness falls with blur, is refused with the blur sentence, and reads the same at any capture size', async () => {
  const { image } = await workbench(4, 4);
  const scores: number[] = [];
  for (const sigma of [0, 1.5, 3, 6]) scores.push(check(await judge(sigma === 0 ? image : await blurred(image, sigma)), 'sharpness').score);
  for (let i = 1; i < scores.length; i++) assert.ok(scores[i] < scores[i - 1], `sharpness falls with blur: ${scores.map((s) => s.toFixed(3)).join(' > ')}`);
  const soft = await judge(await blurred(await packshot(4), 6));
  assert.equal(soft.verdict, 'fail');
  assert.deepEqual(soft.guidance, [BLURRY]);

  const small = check(await judge(await photograph(9, 1, 0.6, 1200, 800)), 'sharpness').score;
  const large = check(await judge(await photograph(9, 1, 1.2, 2400, 1600)), 'sharpness').score;
  assert.ok(Math.abs(small - large) < 0.05, `one scene, two sizes (the lens blur scaled with them): ${small.toFixed(3)} and ${large.toFixed(3)}`);
});

test('exposure: clipped highlights and black frames are refused with the exposure sentences; a dim scene only warns', async () => {
  const image = await photograph(10);
  const blown = await judge(await exposed(image, 4));
  assert.equal(blown.verdict, 'fail');
  assert.equal(check(blown, 'exposure').verdict, 'fail');
  assert.ok(check(blown, 'exposure').details!.clippedShare > 0.6);
  assert.deepEqual(blown.guidance[0], TOO_BRIGHT, 'the exposure names the cause first');
  assert.notEqual(check(blown, 'sharpness').verdict, 'fail', 'outlines clipped away are the exposure\'s fault, not the focus');

  const dim = await judge(await exposed(image, 0.2));
  assert.equal(dim.verdict, 'warn');
  assert.deepEqual(dim.guidance, [TOO_DARK]);
  const black = await judge(await exposed(image, 0.03));
  assert.equal(check(black, 'exposure').verdict, 'fail');
  assert.ok(black.guidance.includes(TOO_DARK));
});

test('exposure: a scene pushed up into the clip (under a stop over) warns, while a white ground with dark tones and a scene half a stop bright pass', async () => {
  for (const seed of [3, 5]) {
    const over = check(await judge(await photograph(seed, 1.8)), 'exposure');
    assert.equal(over.verdict, 'warn', `x1.8: ${JSON.stringify(over.details)}`);
    assert.ok(over.details!.clippedShare < 0.15, 'found by its lifted darks at the clip, not by its clipped share');
    assert.equal(check(await judge(await photograph(seed, 1.4)), 'exposure').verdict, 'pass', 'half a stop bright is a bright scene, not a fault');
  }
  assert.equal(check(await judge(await packshot(2)), 'exposure').verdict, 'pass', 'a packshot on white keeps its dark product');
});

test('resolution is judged against the model\'s input: enlarging warns, enlarging more than twice refuses', async () => {
  const withModel = gateSettingsSchema.parse({ content: 'scene', modelInput: { width: 224, height: 224 } });
  const at = async (width: number, height: number) => check(await judge((await workbench(5, 2, width, height)).image, withModel), 'resolution');
  assert.equal((await at(640, 480)).verdict, 'pass');
  const enlarged = await at(200, 150);
  assert.equal(enlarged.verdict, 'warn');
  assert.ok(Math.abs(enlarged.score - 224 / 150) < 1e-9, `the score is the enlargement: ${enlarged.score}`);
  const tiny = await at(96, 72);
  assert.equal(tiny.verdict, 'fail');
  assert.equal(tiny.guidance, TOO_SMALL);
  assert.equal(check(await judge((await workbench(5, 2, 96, 72)).image), 'resolution').verdict, 'pass', 'without a model size only the floor applies');
});

test('an empty frame is refused as empty; a plain backdrop with one object is not', async () => {
  const empty = await judge(await blank(800, 600, 40));
  assert.equal(check(empty, 'information').verdict, 'fail');
  assert.ok(empty.guidance.includes(LOOKS_EMPTY_SCENE));
  assert.equal(check(await judge(await packshot(5)), 'information').verdict, 'pass');
});

test('the chosen checks decide; the others still report their scores', async () => {
  const soft = await blurred((await workbench(6, 3)).image, 8);
  assert.equal((await judge(soft)).verdict, 'fail');
  const onlyExposure = await judge(soft, gateSettingsSchema.parse({ content: 'scene', checks: ['exposure'] }));
  assert.equal(onlyExposure.verdict, 'pass');
  assert.ok(check(onlyExposure, 'sharpness').score > 0, 'the sharpness score is still there');
  assert.equal(check(onlyExposure, 'sharpness').verdict, 'pass');

  const parsed = gateSettingsSchema.safeParse({ content: 'scene', checks: ['blur'] });
  assert.equal(parsed.success, false);
  assert.match(parsed.error!.issues[0].message, /"blur" is not a scene check: choose from resolution, information, sharpness, exposure/);
  assert.equal(gateSettingsSchema.safeParse({ content: 'scene', scene: { sharpness: { failbelow: 0.1 } } }).success, false, 'a misspelt threshold is refused');
});

test('document content runs the document gate unchanged', async () => {
  const page = await renderDocument({ lines: ['Invoice 20417 paid', 'Total amount: 1250.40'], width: 900 });
  const frame = await frameOf(page);
  assert.deepEqual(runContentGate(frame, quality, undefined), runQualityGate(frame, quality));
  assert.deepEqual(runContentGate(frame, quality, gateSettingsSchema.parse({})), runQualityGate(frame, quality));
});
