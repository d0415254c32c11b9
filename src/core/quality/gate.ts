import type { Frame, GrayFrame } from '../frame.js';
import { checkBlur } from './blur.js';
import type { QualityConfig } from './config.js';
import { checkExposure } from './exposure.js';
import { checkInformation } from './information.js';
import { javascriptKernels, type QualityKernels } from './kernels.js';
import { lumaHistogram } from './luma.js';
import { checkResolution } from './resolution.js';
import { reportOf } from './report.js';
import { measureAtTextScale, overviewOf } from './text-scale.js';
import type { QualityCheck, QualityReport } from './types.js';

/**
 * In a dark frame sensor noise is most of every edge, so sharpness reads low whatever the focus:
 * there the exposure finding names the cause and blur only warns, never refusing on its own.
 */
function underexposedBlur(blur: QualityCheck, exposure: QualityCheck): QualityCheck {
  return blur.verdict === 'fail' && exposure.details?.dark === 1 ? { ...blur, verdict: 'warn' } : blur;
}

/**
 * Runs every quality check on a decoded frame (RGB or RGBA). The luma is computed once (or passed
 * in by a caller that has it); exposure reads its histogram, information and the line pitch read
 * an overview of it, blur and the ink and paper levels read the densest content again at the
 * text's own scale. `kernels` run the passes that touch every pixel: the JavaScript reference by
 * default, or the same passes in WebAssembly (src/core/quality/wasm), which give the same report.
 *
 * @example
 * const report = runQualityGate(frame, qualityConfigSchema.parse({}));
 * if (report.verdict === 'fail') return reply.status(422).send({ guidance: report.guidance });
 */
export function runQualityGate(frame: Frame, config: QualityConfig, luma?: GrayFrame, kernels: QualityKernels = javascriptKernels): QualityReport {
  const gray = luma ?? kernels.toGray(frame);
  const overview = overviewOf(gray, config.analysis, kernels);
  const letters = kernels.measureLetters(overview.plane, overview.scale, overview.edges.backgroundRange);
  const text = measureAtTextScale(gray, overview, letters, config.resolution.minLetters, config.analysis, kernels);
  const information = checkInformation(overview.edges, config.information);
  // Sharpness and ink levels are read from the content; an empty image has none to read them from.
  const hasContent = information.verdict !== 'fail' && text.count >= config.blur.minEdges;
  const measuredBlur = checkBlur(text, hasContent, config.analysis, config.blur);
  const exposure = checkExposure(lumaHistogram(gray), text, hasContent, measuredBlur.verdict !== 'pass', config.exposure);
  const checks: QualityCheck[] = [checkResolution(frame.width, frame.height, letters, config.resolution), information, underexposedBlur(measuredBlur, exposure), exposure];
  return reportOf(checks);
}
