import type { GrayFrame } from '../frame.js';
import { sampleEdges, type EdgeSamples } from './edges.js';
import { BLURRY } from './blur.js';
import { resampleLuma, type LumaPlane } from './luma.js';
import { binnedQuantile } from './quantile.js';
import type { SceneQualityConfig } from './scene-config.js';
import type { QualityCheck } from './types.js';

/** The edges of a scene at its working scale: what sharpness and emptiness are read from. */
export interface SceneEdges {
  plane: LumaPlane;
  /** Working pixels per input pixel. */
  scale: number;
  edges: EdgeSamples;
}

/** The document gate's edge detector settings (quality.analysis defaults): an edge stands out of the image's own noise. */
const EDGE_OPTIONS = { window: 8, minContrast: 8, backgroundMultiple: 5, maxContrast: Infinity, pairDistance: 32 };
/** Edges with at least this share of the strong-edge contrast (90th percentile) are measured: object outlines, not shading or texture. */
const STRONG_EDGE_FRACTION = 0.5;

/**
 * The luma area-averaged to `workingLongSide` (never enlarged), and its edges. One working scale
 * for every capture size, so a scene scores the same shot at 12 or at 2 megapixels.
 */
export function sceneEdges(gray: GrayFrame, config: Pick<SceneQualityConfig['sharpness'], 'workingLongSide'>): SceneEdges {
  const scale = Math.min(1, config.workingLongSide / Math.max(gray.width, gray.height));
  const plane = resampleLuma(gray, { x: 0, y: 0, width: gray.width, height: gray.height }, scale);
  return { plane, scale, edges: sampleEdges(plane, EDGE_OPTIONS) };
}

/**
 * Whether edge `i` has the largest gradient within the detector's window along its scan line.
 * Sensor grain beside an outline makes small local maxima of the gradient there, whose luma range
 * is the outline's: at a scale where grain survives (a frame near the working size) they would
 * count as strong, wide edges and call a sharp photograph blurry.
 */
function dominatesWindow(plane: LumaPlane, edges: EdgeSamples, i: number): boolean {
  const { data, width, height } = plane;
  const position = edges.position[i];
  const alongRow = i < edges.rowEdges;
  const step = alongRow ? 1 : width;
  const t = alongRow ? position % width : Math.floor(position / width);
  const length = alongRow ? width : height;
  const gradientAt = (at: number, u: number) => (u < 1 || u > length - 2 ? 0 : Math.abs(data[at + step] - data[at - step]));
  const own = gradientAt(position, t);
  for (let d = -EDGE_OPTIONS.window; d <= EDGE_OPTIONS.window; d++) {
    if (d !== 0 && gradientAt(position + d * step, t + d) > own) return false;
  }
  return true;
}

/**
 * Sharpness of a scene: the median steepness (gradient magnitude over the local luma range, a
 * Tenengrad gradient normalised by contrast) of its strong edges at the working scale. Normalised,
 * so a dim or low-contrast scene in focus scores as high as a bright one; read only at the
 * strongest edges, so a plain backdrop or a soft sky does not pull it down. 0.5 is a perfect step;
 * a Gaussian blur of sigma s working pixels gives about 0.4 / s. Too few edges to measure: not
 * judged (score 0, pass); the information check speaks for an empty frame.
 */
export function checkSceneSharpness(scene: SceneEdges, config: SceneQualityConfig['sharpness']): QualityCheck {
  const { edges } = scene;
  const contrast = new Float32Array(edges.count);
  for (let i = 0; i < edges.count; i++) contrast[i] = edges.high[i] - edges.low[i];
  const strongContrast = binnedQuantile(contrast, 0.9, 256) * STRONG_EDGE_FRACTION;
  const strong = new Float32Array(edges.count);
  let measured = 0;
  for (let i = 0; i < edges.count; i++) {
    if (contrast[i] >= strongContrast && dominatesWindow(scene.plane, edges, i)) strong[measured++] = edges.steepness[i];
  }
  const details = { measuredEdges: measured, workingScale: scene.scale, workingLongSide: Math.max(scene.plane.width, scene.plane.height) };
  const base = { name: 'sharpness', threshold: config.failBelow, details };
  if (measured < config.minEdges) return { ...base, score: 0, verdict: 'pass', guidance: null };
  const score = binnedQuantile(strong.subarray(0, measured), 0.5, 1);
  if (score < config.failBelow) return { ...base, score, verdict: 'fail', guidance: BLURRY };
  if (score < config.warnBelow) return { ...base, score, verdict: 'warn', guidance: BLURRY };
  return { ...base, score, verdict: 'pass', guidance: null };
}
