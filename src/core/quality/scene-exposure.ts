import { OVEREXPOSED, TOO_BRIGHT, TOO_DARK } from './exposure.js';
import { histogramPercentile } from './luma.js';
import type { SceneQualityConfig } from './scene-config.js';
import type { QualityCheck } from './types.js';

/**
 * Exposure of a photograph, from the ends of its histogram. Too bright: a share of the frame is
 * clipped white, or its darkest tones are lifted (washed out; less so when its highlights already
 * reach the clip: the whole range is pushed up). Too dark: its highlights are dim,
 * with or without crushed shadows. A high-key scene (snow, a white product on white) or a night
 * scene with lights keeps detail at both ends and passes; a finding fails only when the frame holds
 * almost nothing: mostly clipped with no dark tones left (dark ink or a dark subject on a white
 * ground keeps its detail, and only warns), or white or black throughout. Score: the clipped share when too
 * bright, the 98th percentile when too dark, else the 50th.
 */
export function checkSceneExposure(histogram: Float64Array, config: SceneQualityConfig['exposure']): QualityCheck {
  let total = 0;
  let clipped = 0;
  let crushed = 0;
  for (let v = 0; v < 256; v++) {
    total += histogram[v];
    if (v >= config.blownFrom) clipped += histogram[v];
    if (v <= config.crushedBelow) crushed += histogram[v];
  }
  const clippedShare = clipped / Math.max(1, total);
  const crushedShare = crushed / Math.max(1, total);
  const p02 = histogramPercentile(histogram, 0.02);
  const p50 = histogramPercentile(histogram, 0.5);
  const p98 = histogramPercentile(histogram, 0.98);
  const lifted = p02 >= config.liftedBlacksFrom || (p02 >= config.liftedBlacksAtClipFrom && p98 >= config.highlightsAtClipFrom);
  const bright = clippedShare >= config.clippedWarn || lifted;
  const dark = !bright && (p98 < config.darkHighlightsBelow || (crushedShare >= config.crushedWarn && p98 < config.dimHighlightsBelow));
  const details = { clippedShare, crushedShare, p02, p50, p98, dark: dark ? 1 : 0, bright: bright ? 1 : 0 };
  if (bright) {
    const gone = (clippedShare >= config.clippedFail && p02 >= config.liftedBlacksFrom) || p02 >= config.whiteFrameFrom;
    return { name: 'exposure', score: clippedShare, threshold: config.clippedWarn, details, verdict: gone ? 'fail' : 'warn', guidance: clippedShare >= config.clippedWarn ? TOO_BRIGHT : OVEREXPOSED };
  }
  if (dark) {
    const gone = p98 < config.blackFrameBelow;
    return { name: 'exposure', score: p98, threshold: config.darkHighlightsBelow, details, verdict: gone ? 'fail' : 'warn', guidance: TOO_DARK };
  }
  return { name: 'exposure', score: p50, threshold: config.darkHighlightsBelow, details, verdict: 'pass', guidance: null };
}
