import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import type { Frame } from '../src/core/frame.js';
import { DETECTION_PREPROCESS, ORIENTATION_PREPROCESS, RECOGNITION_PREPROCESS } from '../src/runtime/builtin.js';
import { asJpeg, blank, blurred, exposed, randomLines, renderDocument, rotated, withGrain } from './fixtures/documents.js';
import { launchChromium } from './helpers/browser.js';
import { browserBundle } from './helpers/device-core.js';
import { probe, type ProbeAnswer } from './helpers/parity-probe.js';

/**
 * The same decoded pixels through the same core in Node and in Chromium: the gate's whole report
 * (every score, detail and sentence), the tensors the three built-in models read and the perceptual
 * hash must be identical to the bit. Both sides run V8 on IEEE doubles and float32 arrays, and the
 * core uses no platform maths but Math's, so nothing allows a difference. Decoding is kept out of
 * the comparison (both sides get sharp's RGBA); the last test measures where the decoders differ.
 */
const SPECS = { detection: DETECTION_PREPROCESS, orientation: ORIENTATION_PREPROCESS, recognition: RECOGNITION_PREPROCESS };
// A localhost origin is a secure context, which gives the page crypto.subtle.
const ORIGIN = 'http://localhost:1';

type ProbeGlobal = { parityProbe: { probeBase64(width: number, height: number, rgba: string, specs: typeof SPECS): Promise<ProbeAnswer> } };

let browser: Browser;
let page: Page;
/** `flat`: no content at all, whose hash bits are the signs of rounding noise (see below). */
let images: { name: string; png: Buffer; flat?: boolean }[];

before(async () => {
  const document = await renderDocument({ lines: randomLines(14, 6), fontSize: 30, width: 1100 });
  images = [
    { name: 'sharp page', png: document },
    { name: 'blurred page', png: await blurred(document, 4) },
    { name: 'dark page', png: await exposed(document, 0.25) },
    { name: 'grainy small print', png: await withGrain(await renderDocument({ lines: randomLines(15, 10), fontSize: 12, width: 700 }), 30, 3) },
    { name: 'upside-down page', png: await rotated(document, 180) },
    { name: 'blank wall', png: await blank(640, 480), flat: true },
  ];
  browser = await launchChromium();
  page = await browser.newPage();
  await page.route(`${ORIGIN}/**`, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>parity</title>' }));
  await page.goto(`${ORIGIN}/`);
  await page.addScriptTag({ content: await browserBundle('test/helpers/parity-probe.ts', 'parityProbe') });
});
after(async () => {
  await browser?.close();
});

async function rgbaOf(encoded: Buffer): Promise<Frame & { data: Uint8Array }> {
  const { data, info } = await sharp(encoded).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 4, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

function inChromium(frame: Frame): Promise<ProbeAnswer> {
  const rgba = Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength).toString('base64');
  return page.evaluate(({ width, height, rgba, specs }) => (globalThis as unknown as ProbeGlobal).parityProbe.probeBase64(width, height, rgba, specs), {
    width: frame.width,
    height: frame.height,
    rgba,
    specs: SPECS,
  });
}

test("the gate's report, the three models' tensors and the perceptual hash are bit-identical in Chromium and in Node", async (t) => {
  const verdicts = new Set<string>();
  for (const { name, png, flat } of images) {
    const frame = await rgbaOf(png);
    const node = await probe(frame, SPECS);
    const chromium = await inChromium(frame);
    assert.deepEqual(chromium.report, node.report, `${name}: the gate's report`);
    assert.deepEqual(chromium.tensors, node.tensors, `${name}: the tensors`);
    assert.deepEqual(chromium.specHashes, node.specHashes, `${name}: the preprocessing hashes`);
    // A uniform frame's DCT coefficients are all within rounding of zero, so its bits (above or below
    // their median) are noise that the two V8 builds round differently in the last bit: the
    // hash of a flat frame means nothing on either side and is not compared.
    if (!flat) assert.equal(chromium.phash, node.phash, `${name}: the perceptual hash`);
    verdicts.add(node.report.verdict);
    t.diagnostic(`${name}: ${node.report.verdict}${node.report.guidance.length > 0 ? ` (${node.report.guidance.join(' / ')})` : ''}`);
  }
  assert.ok(verdicts.has('pass') && verdicts.has('fail'), `the images span the verdicts (${[...verdicts].join(', ')}), so agreement is not trivial`);
});

/** The pixels Chromium's own decoder gives for an encoded image, as the capture page's file input decodes it. Runs in the page. */
function decodedInChromium(bytes: Buffer, type: string): Promise<{ width: number; height: number; rgba: string }> {
  return page.evaluate(
    async ({ base64, type }) => {
      // This file is type-checked without the DOM library: the page's APIs are described where they are used.
      const scope = globalThis as unknown as {
        createImageBitmap(blob: Blob, options: object): Promise<{ width: number; height: number }>;
        OffscreenCanvas: new (w: number, h: number) => { getContext(kind: '2d'): { drawImage(image: unknown, x: number, y: number): void; getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
      };
      const blob = new Blob([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], { type });
      const bitmap = await scope.createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
      const context = new scope.OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d');
      context.drawImage(bitmap, 0, 0);
      const data = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
      let binary = '';
      for (let i = 0; i < data.length; i += 0x8000) binary += String.fromCharCode(...data.subarray(i, i + 0x8000));
      return { width: bitmap.width, height: bitmap.height, rgba: btoa(binary) };
    },
    { base64: bytes.toString('base64'), type },
  );
}

test('decoding: a PNG decodes to the same pixels in Chromium as with sharp; a JPEG may differ, and the gate still agrees on it', async (t) => {
  const png = images[0].png;
  const decoded = await decodedInChromium(png, 'image/png');
  assert.ok(Buffer.from(decoded.rgba, 'base64').equals(Buffer.from((await rgbaOf(png)).data)), 'PNG pixels identical');

  for (const { name, png: source } of images.slice(0, 3)) {
    const jpeg = await asJpeg(source, 80);
    const server = await rgbaOf(jpeg);
    const browserPixels = await decodedInChromium(jpeg, 'image/jpeg');
    const browserData = new Uint8Array(Buffer.from(browserPixels.rgba, 'base64'));
    let differing = 0;
    let largest = 0;
    for (let i = 0; i < browserData.length; i++) {
      const difference = Math.abs(browserData[i] - server.data[i]);
      if (difference > 0) differing++;
      largest = Math.max(largest, difference);
    }
    const fromServer = await probe(server, SPECS);
    const fromBrowser = await probe({ width: browserPixels.width, height: browserPixels.height, channels: 4, data: browserData }, SPECS);
    const blur = (answer: ProbeAnswer) => answer.report.checks.find((check) => check.name === 'blur')?.score;
    t.diagnostic(`${name} as JPEG q80: ${differing} of ${browserData.length} samples differ between the decoders, by at most ${largest}; blur score ${blur(fromServer)} (sharp) against ${blur(fromBrowser)} (Chromium)`);
    assert.equal(fromBrowser.report.verdict, fromServer.report.verdict, `${name} as JPEG: the same verdict from either decoder`);
  }
});
