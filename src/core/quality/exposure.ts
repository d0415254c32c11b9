import type { QualityConfig } from './config.js';
import { histogramPercentile } from './luma.js';
import { binnedQuantile } from './quantile.js';
import type { TextScaleEdges } from './text-scale.js';
import type { QualityCheck } from './types.js';

export const TOO_DARK = 'The image is too dark: add light or move out of the shadow.';
export const OVEREXPOSED = 'The image is overexposed: avoid direct light or glare on the page.';
export const TOO_BRIGHT = 'The image is too bright: its highlights are clipped; turn the exposure down or move out of direct light.';

/** Without content edges, the paper is the bright end of the histogram and the ink its dark end. */
const PAPER_PERCENTILE = 0.95;
const INK_PERCENTILE = 0.01;

/**
 * Exposure of a document, judged by its paper and its ink, not by how many pixels are white (a
 * normal page is mostly white paper). Both are read beside the content's edges: the ink is the
 * median darkest luma around them, the paper the median brightest, their difference the
 * separation. Underexposed: the paper itself is dark. Overexposed: the paper is blown out and the
 * ink lifted towards it. Either finding warns; it fails only when the ink no longer separates from
 * the paper, since a dark or washed-out page whose ink still stands out reads once normalised.
 * With no content to read them from (the information check failed) the levels come from the
 * histogram and a finding only warns: the information check reports the emptiness. On a blurry
 * image (`blurry`) thin strokes smear into the paper and lift the ink level as glare does; the
 * blur finding names that cause, so no overexposure is reported beside it.
 */
export function checkExposure(
  histogram: Float64Array,
  edges: TextScaleEdges,
  hasContent: boolean,
  blurry: boolean,
  config: QualityConfig['exposure'],
): QualityCheck {
  const paper = hasContent ? binnedQuantile(edges.high, 0.5, 256) : histogramPercentile(histogram, PAPER_PERCENTILE);
  const ink = hasContent ? binnedQuantile(edges.low, 0.5, 256) : histogramPercentile(histogram, INK_PERCENTILE);
  const separation = Math.max(0, paper - ink);
  const levels = levelStatistics(histogram, config);
  const darkPage = paper < config.darkPaperBelow;
  const brightPage = !darkPage && !blurry && paper >= config.blownPaperFrom && ink > config.liftedInkAbove;
  // A photograph's exposure shows at the ends of its histogram: clipped highlights with washed-out
  // shadows, crushed shadows with dim highlights. A page is mostly white paper, so a clipped share
  // alone says nothing; its dark ink (the edges' dark side) is what keeps it from counting.
  const darkPhoto = !brightPage && levels.shadowFraction >= config.crushedShare && paper < config.dimHighlightsBelow;
  const washed = levels.p02 >= config.liftedBlacksFrom || levels.highlightFraction >= config.clippedShare;
  const brightPhoto = !darkPage && !darkPhoto && !blurry && levels.p50 >= config.brightMedianFrom && ink > config.washedShadowsAbove && washed;
  const dark = darkPage || darkPhoto;
  const bright = brightPage || brightPhoto;
  const details = {
    ...levels,
    paperLevel: paper,
    inkLevel: ink,
    dark: dark ? 1 : 0,
    bright: bright ? 1 : 0,
  };
  const base = { name: 'exposure', score: separation, threshold: config.minSeparation, details };
  if (!dark && !bright) return { ...base, verdict: 'pass', guidance: null };
  const gone = hasContent && separation < config.minSeparation;
  return { ...base, verdict: gone ? 'fail' : 'warn', guidance: dark ? TOO_DARK : brightPage ? OVEREXPOSED : TOO_BRIGHT };
}

function levelStatistics(histogram: Float64Array, config: QualityConfig['exposure']) {
  let total = 0;
  let sum = 0;
  let crushed = 0;
  let blown = 0;
  for (let v = 0; v < 256; v++) {
    const n = histogram[v];
    total += n;
    sum += n * v;
    if (v <= config.crushedBelow) crushed += n;
    if (v >= config.blownFrom) blown += n;
  }
  const safeTotal = Math.max(1, total);
  return {
    meanLuma: sum / safeTotal,
    shadowFraction: crushed / safeTotal,
    highlightFraction: blown / safeTotal,
    p02: histogramPercentile(histogram, 0.02),
    p50: histogramPercentile(histogram, 0.5),
    p98: histogramPercentile(histogram, 0.98),
  };
}
