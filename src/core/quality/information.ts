import type { QualityConfig } from './config.js';
import type { EdgeSamples } from './edges.js';
import type { QualityCheck } from './types.js';

export const LOOKS_EMPTY = 'The image looks empty: point the camera at the document.';

/**
 * Content as the density of paired edges on the overview: edges that stand out of the image's
 * own background and have an opposite edge near them (the two sides of a stroke, a rule, a word),
 * per scanned row or column. A lens cap, a blank sheet, a wall, a shadow across a blank page or
 * the border of a sheet on a table has almost none; one short word on a page has plenty.
 */
export function checkInformation(edges: EdgeSamples, config: QualityConfig['information']): QualityCheck {
  const density = edges.paired / Math.max(1, edges.scanLines);
  const details = { edges: edges.count, pairedEdges: edges.paired, backgroundRange: edges.backgroundRange, significantContrast: edges.significantContrast };
  const base = { name: 'information', score: density, threshold: config.minEdgeDensity, details };
  if (density < config.minEdgeDensity) return { ...base, verdict: 'fail', guidance: LOOKS_EMPTY };
  return { ...base, verdict: 'pass', guidance: null };
}
