import { toTensor, type PreprocessSpec } from '../../src/core/device.js';
import { loadLineClassifier, loadPageOrientation, type ModelUrls, type PageOrientation } from '../../web/capture/device-models.js';

/** Base64 RGBA pixels, as a page receives them from the test. */
export interface Pixels {
  width: number;
  height: number;
  rgba: string;
}

function frameOf(pixels: Pixels) {
  return { width: pixels.width, height: pixels.height, channels: 4 as const, data: Uint8ClampedArray.from(atob(pixels.rgba), (c) => c.charCodeAt(0)) };
}

/** The capture page's models as the test bundles them for Chromium: the classifier's scores for each line, made into its tensor by the core. */
export async function classifyLines(urls: ModelUrls, spec: PreprocessSpec, lines: Pixels[]): Promise<number[][]> {
  const classify = await loadLineClassifier(urls);
  const scores: number[][] = [];
  for (const line of lines) scores.push(await classify(toTensor(frameOf(line), spec)));
  return scores;
}

/** Whether each page is upside down, by the device's detector, classifier and the pipeline's vote, and how long it took. */
export async function pageOrientations(urls: ModelUrls, pages: Pixels[]): Promise<(PageOrientation & { ms: number })[]> {
  const orientation = await loadPageOrientation(urls);
  const answers: (PageOrientation & { ms: number })[] = [];
  for (const page of pages) {
    const started = performance.now();
    const answer = await orientation(frameOf(page));
    answers.push({ ...answer, ms: performance.now() - started });
  }
  return answers;
}
