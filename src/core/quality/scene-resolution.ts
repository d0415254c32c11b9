import { TOO_SMALL } from './resolution.js';
import type { SceneQualityConfig } from './scene-config.js';
import type { QualityCheck } from './types.js';

/**
 * Whether the frame holds enough pixels for the model that reads it: how many times its short
 * side must be enlarged to the short side of the model's input (1 or less: none). Enlarging adds
 * no detail, so past `failUpscale` the model sees a smear of the subject. Without a known input
 * size, only the floor applies. Score: the enlargement, or the short side without a model size.
 */
export function checkSceneResolution(width: number, height: number, modelInput: { width: number; height: number } | undefined, config: SceneQualityConfig['resolution']): QualityCheck {
  const shortSide = Math.min(width, height);
  const details: Record<string, number> = { width, height };
  if (shortSide < config.minShortSide) return { name: 'resolution', score: shortSide, threshold: config.minShortSide, details, verdict: 'fail', guidance: TOO_SMALL };
  if (modelInput === undefined) return { name: 'resolution', score: shortSide, threshold: config.minShortSide, details, verdict: 'pass', guidance: null };
  const upscale = Math.min(modelInput.width, modelInput.height) / shortSide;
  const judged = { name: 'resolution', score: upscale, threshold: config.failUpscale, details: { ...details, modelWidth: modelInput.width, modelHeight: modelInput.height } };
  if (upscale > config.failUpscale) return { ...judged, verdict: 'fail', guidance: TOO_SMALL };
  if (upscale > config.warnUpscale) return { ...judged, verdict: 'warn', guidance: TOO_SMALL };
  return { ...judged, verdict: 'pass', guidance: null };
}
