import type { QualityConfig } from './config.js';
import { binnedQuantile } from './quantile.js';
import type { TextScaleEdges } from './text-scale.js';
import type { QualityCheck } from './types.js';

export const BLURRY = 'The image is blurry: hold the camera still or move closer.';

/** Width, in pixels, of a perfect step as the central difference sees it: steepness 0.5. */
const STEP_WIDTH = 2;

/**
 * Sharpness of the text: the median steepness of the strong edges (gradient over local
 * contrast), read where lines are `canonicalLinePitch` pixels apart. Contrast-normalised, so a dark
 * or faint page in focus is sharp; measured at the text's own scale, so one scene scores the same
 * at any capture size and blur is judged against the size of the print; only edges are sampled,
 * so the blank paper does not count.
 *
 * Text smaller than the canonical scale is read at full resolution: the part of the edge width
 * that blur adds is scaled up to the canonical pitch, the one-pixel floor of sampling is not.
 * Score 1 / edge width at the canonical scale: 0.5 for a perfect step, about 0.4 / sigma for a
 * Gaussian blur of sigma canonical pixels. On an image without content (the information check
 * failed) or with too few edges to measure, sharpness is not judged: score 0, verdict pass; the
 * information check reports the emptiness, and a shadow across a blank sheet is not "blurry".
 */
export function checkBlur(edges: TextScaleEdges, hasContent: boolean, analysis: QualityConfig['analysis'], config: QualityConfig['blur']): QualityCheck {
  const contrast = new Float32Array(edges.count);
  for (let i = 0; i < edges.count; i++) contrast[i] = edges.high[i] - edges.low[i];
  const strongContrast = binnedQuantile(contrast, 0.9, 256) * config.strongEdgeFraction;
  const strong = new Float32Array(edges.count);
  let measured = 0;
  for (let i = 0; i < edges.count; i++) {
    if (contrast[i] >= strongContrast) strong[measured++] = edges.steepness[i];
  }
  const details = {
    measuredEdges: measured,
    linePitch: edges.pitch,
    linePitchFound: edges.pitchFound,
    linePitchConfidence: edges.pitchConfidence,
    workingScale: edges.scale,
  };
  const base = { name: 'blur', threshold: config.failBelow };
  if (!hasContent || measured < config.minEdges) return { ...base, score: 0, verdict: 'pass', guidance: null, details };
  const width = 1 / Math.max(binnedQuantile(strong.subarray(0, measured), 0.5, 1), 1e-6);
  const blurWidth = Math.sqrt(Math.max(0, width * width - STEP_WIDTH * STEP_WIDTH));
  const canonicalBlurWidth = (blurWidth * analysis.canonicalLinePitch) / edges.workingPitch;
  const sharpness = 1 / Math.sqrt(STEP_WIDTH * STEP_WIDTH + canonicalBlurWidth * canonicalBlurWidth);
  const scored = { ...base, score: sharpness, details: { ...details, edgeWidth: 1 / sharpness } };
  if (sharpness < config.failBelow) return { ...scored, verdict: 'fail', guidance: BLURRY };
  if (sharpness < config.warnBelow) return { ...scored, verdict: 'warn', guidance: BLURRY };
  return { ...scored, verdict: 'pass', guidance: null };
}
