import { toTensor, type DeviceReadingSettings, type PreprocessSpec } from '../../src/core/device.js';
import { loadDeviceModels, loadLineClassifier, type ModelBackend, type ModelUrls } from '../../web/capture/device-models.js';

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

/** What the device's detector and the pipeline's vote made of a page. */
export interface PageOrientation {
  lines: number;
  /** The top of each line found, in the order given. */
  tops: number[];
  upsideDown: boolean | null;
  backend: ModelBackend;
}

/** Whether each page is upside down, by the device's detector, classifier and the pipeline's vote (`settings`), and how long it took. */
export async function pageOrientations(urls: ModelUrls, settings: DeviceReadingSettings, pages: Pixels[]): Promise<(PageOrientation & { ms: number })[]> {
  const examine = await loadDeviceModels(urls, settings, { orientation: true });
  const answers: (PageOrientation & { ms: number })[] = [];
  for (const page of pages) {
    const started = performance.now();
    const { boxes, upsideDown, backend } = await examine(frameOf(page), false);
    answers.push({ lines: boxes.length, tops: boxes.map((box) => box[0][1]), upsideDown, backend, ms: performance.now() - started });
  }
  return answers;
}

/** What the page's own thread went through while the device's models loaded and voted on each page. */
export interface MainThreadWatch {
  /** The longest the page's thread went without running its 10 ms timer, in milliseconds: how long it was frozen at worst. */
  longestStall: number;
  /** Milliseconds from the start of the load to the last page's answer. */
  elapsed: number;
  answers: PageOrientation[];
}

/**
 * The models loaded and run on each page while a 10 ms timer on the page's thread measures the
 * gaps between its turns (Chromium reported no long-task entry for the stalls of the models on
 * the page's thread; a timer that cannot run shows them). The pixels are decoded before the watch starts.
 */
export async function watchMainThread(urls: ModelUrls, settings: DeviceReadingSettings, pages: Pixels[]): Promise<MainThreadWatch> {
  const frames = pages.map(frameOf);
  let lastTurn = performance.now();
  let longestStall = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longestStall = Math.max(longestStall, now - lastTurn);
    lastTurn = now;
  }, 10);
  const started = performance.now();
  try {
    const examine = await loadDeviceModels(urls, settings, { orientation: true });
    const answers: PageOrientation[] = [];
    for (const frame of frames) {
      const { boxes, upsideDown, backend } = await examine(frame, false);
      answers.push({ lines: boxes.length, tops: boxes.map((box) => box[0][1]), upsideDown, backend });
    }
    const elapsed = performance.now() - started;
    // The timer's next turn measures the stall the last answer may have ended in.
    await new Promise((done) => setTimeout(done, 20));
    return { longestStall, elapsed, answers };
  } finally {
    clearInterval(timer);
  }
}
