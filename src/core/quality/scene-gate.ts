import { toGray, type Frame, type GrayFrame } from '../frame.js';
import { checkSceneExposure } from './scene-exposure.js';
import { histogramPercentile, lumaHistogram } from './luma.js';
import { reportOf } from './report.js';
import type { SceneQualityConfig } from './scene-config.js';
import { checkSceneResolution } from './scene-resolution.js';
import { checkSceneSharpness, sceneEdges, type SceneEdges } from './scene-sharpness.js';
import type { QualityCheck, QualityReport } from './types.js';

export const LOOKS_EMPTY_SCENE = 'The image looks empty: point the camera at the subject.';

/**
 * A frame with almost no edges at the working scale (a lens cap, a blank wall, a hand over the
 * lens) whose tones barely vary. A plain backdrop with one object on it has its outline (the
 * threshold is a share of the working pixels, far below any subject's outline); a texture filling
 * the frame (fabric, gravel) has no edge that stands out of its own grain, but its tones spread.
 */
function checkSceneInformation(scene: SceneEdges, histogram: Float64Array, config: SceneQualityConfig['information']): QualityCheck {
  const share = scene.edges.count / Math.max(1, scene.plane.width * scene.plane.height);
  const spread = histogramPercentile(histogram, 0.98) - histogramPercentile(histogram, 0.02);
  const base = { name: 'information', score: share, threshold: config.minEdgeShare, details: { edges: scene.edges.count, spread, backgroundRange: scene.edges.backgroundRange } };
  if (share < config.minEdgeShare && spread < config.minSpread) return { ...base, verdict: 'fail', guidance: LOOKS_EMPTY_SCENE };
  return { ...base, verdict: 'pass', guidance: null };
}

/**
 * The gate for scenes: resolution against the model's input, emptiness, sharpness at a working
 * scale and photographic exposure. As for documents, in a dark frame sensor noise is most of every
 * edge, and in a blown-out one the outlines are clipped away: there the exposure finding names the
 * cause and sharpness only warns.
 *
 * @example
 * const report = runSceneGate(frame, sceneQualityConfigSchema.parse({}), { width: 224, height: 224 });
 */
export function runSceneGate(frame: Frame, config: SceneQualityConfig, modelInput?: { width: number; height: number }, gray: GrayFrame = toGray(frame)): QualityReport {
  const scene = sceneEdges(gray, config.sharpness);
  const histogram = lumaHistogram(gray);
  const information = checkSceneInformation(scene, histogram, config.information);
  const exposure = checkSceneExposure(histogram, config.exposure);
  const measured = information.verdict === 'fail' ? { ...checkSceneSharpness(scene, config.sharpness), verdict: 'pass' as const, guidance: null } : checkSceneSharpness(scene, config.sharpness);
  const sharpness = measured.verdict === 'fail' && exposure.verdict !== 'pass' ? { ...measured, verdict: 'warn' as const } : measured;
  return reportOf([checkSceneResolution(frame.width, frame.height, modelInput, config.resolution), information, sharpness, exposure]);
}
