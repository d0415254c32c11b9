import { VisionopsError } from '../errors.js';
import type { Frame, GrayFrame } from '../frame.js';
import { checkBlur } from './blur.js';
import type { QualityConfig } from './config.js';
import { checkExposure } from './exposure.js';
import { checkInformation } from './information.js';
import { javascriptKernels, type QualityKernels } from './kernels.js';
import { histogramPercentile, lumaHistogram } from './luma.js';
import { checkResolution, TEXT_TOO_SMALL } from './resolution.js';
import { checkSceneSharpness, sceneEdges } from './scene-sharpness.js';
import { reportOf } from './report.js';
import { undimmed, type LetterSizes } from './letters.js';
import { overviewOf, planTextScale, readTextScale, type Overview, type TextScalePlan } from './text-scale.js';
import type { QualityCheck, QualityReport } from './types.js';

/**
 * In a dark frame sensor noise is most of every edge, so sharpness reads low whatever the focus:
 * there the exposure finding names the cause and blur only warns, never refusing on its own.
 */
function underexposedBlur(blur: QualityCheck, exposure: QualityCheck): QualityCheck {
  return blur.verdict === 'fail' && exposure.details?.dark === 1 ? { ...blur, verdict: 'warn' } : blur;
}

/**
 * Washing out lifts faint print into the paper until what is left of its letters measures small:
 * where the exposure finding names that cause, the print's size only warns. (Dimming is undone
 * before the letters are measured, `undimmed`; a lifted black level cannot be, since blur lifts
 * it too.) A frame too small to hold a line still fails.
 */
function washedOutResolution(resolution: QualityCheck, exposure: QualityCheck): QualityCheck {
  return resolution.verdict === 'fail' && resolution.guidance === TEXT_TOO_SMALL && exposure.details?.bright === 1 ? { ...resolution, verdict: 'warn' } : resolution;
}

/**
 * A blur finding on an image whose line pitch was not found stands only when its outlines are soft
 * too: a sharp photograph without text (a scene sent to a document pipeline) otherwise reads blurry
 * at the scale of the grain or texture its letters were guessed from. A page blurred past its line
 * pitch has no steep outline anywhere, and keeps its finding.
 */
function unlessSharpWithoutLines(blur: QualityCheck, gray: GrayFrame, { withoutLines, minEdges }: QualityConfig['blur']): QualityCheck {
  if (blur.verdict === 'pass' || blur.details?.linePitchFound !== 0 || withoutLines === null) return blur;
  const { workingLongSide, sharpFrom } = withoutLines;
  const outlines = checkSceneSharpness(sceneEdges(gray, { workingLongSide }), { workingLongSide, failBelow: sharpFrom, warnBelow: sharpFrom, minEdges });
  const details = { ...blur.details, outlineSharpness: outlines.score };
  return outlines.verdict === 'pass' && outlines.score > 0 ? { ...blur, verdict: 'pass', guidance: null, details } : { ...blur, details };
}

/**
 * What the gate learns from the overview alone: its edges, the letters, and where and at what
 * scale blur is to be read. `gray` is the image's luma, or a reduced decode of it (`grayScale`
 * gray pixels per image pixel); `width` and `height` are the image's own.
 */
export interface GateSurvey {
  width: number;
  height: number;
  gray: GrayFrame;
  grayScale: number;
  overview: Overview;
  letters: LetterSizes;
  plan: TextScalePlan;
  /** Counts of each luma level: exposure's, and where the letters learn whether the image is dim. */
  histogram: Float64Array;
}

/** The gate's first half, on the overview: a reduced decode is enough for it. */
export function surveyImage(width: number, height: number, gray: GrayFrame, config: QualityConfig, kernels: QualityKernels = javascriptKernels): GateSurvey {
  const grayScale = gray.width === width && gray.height === height ? 1 : Math.max(gray.width, gray.height) / Math.max(width, height);
  const overview = overviewOf(gray, config.analysis, kernels, grayScale);
  const histogram = lumaHistogram(gray);
  const undimmedPlane = undimmed(overview.plane, overview.edges.backgroundRange, histogramPercentile(histogram, 0.99));
  const letters = kernels.measureLetters(undimmedPlane.plane, overview.scale, undimmedPlane.noise);
  const plan = planTextScale(overview, width, height, letters, config.resolution.minLetters, config.analysis, kernels);
  return { width, height, gray, grayScale, overview, letters, plan, histogram };
}

/** Whether judging a survey made on a reduced decode needs the full-resolution luma: its tiles do, when it has any. */
export function needsFullResolution(survey: GateSurvey): boolean {
  return survey.grayScale < 1 && survey.plan.tiles.length > 0;
}

/** Full-resolution luma holding the image's pixels from (`x`, `y`) on: the whole image, or a decode of only the tiles' region (`tilesRegion`). */
export interface FullResolution {
  gray: GrayFrame;
  x: number;
  y: number;
}

/**
 * The gate's second half: blur and the ink and paper levels read in the plan's tiles from `full`,
 * then every check. A survey of the full luma has it already; a survey of a reduced one without
 * tiles (an empty frame) needs none. Exposure's histogram is the survey's luma's.
 */
export function judgeSurvey(survey: GateSurvey, config: QualityConfig, kernels: QualityKernels = javascriptKernels, full: FullResolution | null = survey.grayScale === 1 ? { gray: survey.gray, x: 0, y: 0 } : null): QualityReport {
  if (full === null && needsFullResolution(survey)) {
    throw new VisionopsError('INTERNAL', "The gate reads its tiles at full resolution: decode the tiles' region and pass its luma.");
  }
  const { overview, letters } = survey;
  const text = readTextScale(survey.plan, full?.gray ?? survey.gray, config.analysis, kernels, full ?? undefined);
  const information = checkInformation(overview.edges, config.information);
  // Sharpness and ink levels are read from the content; an empty image has none to read them from.
  const hasContent = information.verdict !== 'fail' && text.blur.count >= config.blur.minEdges && text.levels.count >= config.blur.minEdges;
  const measuredBlur = unlessSharpWithoutLines(checkBlur(text.blur, hasContent, config.analysis, config.blur), survey.gray, config.blur);
  const exposure = checkExposure(survey.histogram, text.levels, hasContent, measuredBlur.verdict !== 'pass', config.exposure);
  const resolution = washedOutResolution(checkResolution(survey.width, survey.height, letters, config.resolution), exposure);
  const checks: QualityCheck[] = [resolution, information, underexposedBlur(measuredBlur, exposure), exposure];
  return reportOf(checks);
}

/**
 * Runs every quality check on a decoded frame (RGB or RGBA). The luma is computed once (or passed
 * in by a caller that has it); exposure reads its histogram, information and the line pitch read
 * an overview of it, the ink and paper levels read the densest content again at the text's own
 * scale, and blur the dense content whose edges are steepest. `kernels` run the passes that touch
 * every pixel: the JavaScript reference by default, or the same passes in WebAssembly
 * (src/core/quality/wasm), which give the same report.
 *
 * @example
 * const report = runQualityGate(frame, qualityConfigSchema.parse({}));
 * if (report.verdict === 'fail') return reply.status(422).send({ guidance: report.guidance });
 */
export function runQualityGate(frame: Frame, config: QualityConfig, luma?: GrayFrame, kernels: QualityKernels = javascriptKernels): QualityReport {
  const gray = luma ?? kernels.toGray(frame);
  return judgeSurvey(surveyImage(frame.width, frame.height, gray, config, kernels), config, kernels);
}
