import { toGray, type Frame, type GrayFrame } from '../frame.js';
import type { QualityConfig } from './config.js';
import { runQualityGate } from './gate.js';
import type { GateSettings } from './gate-settings.js';
import type { QualityKernels } from './kernels.js';
import { reportOf } from './report.js';
import { runSceneGate } from './scene-gate.js';
import type { QualityReport } from './types.js';

/**
 * The gate a pipeline asks for: the document checks (thresholds from `quality`) or the scene
 * checks (thresholds from its settings). Checks left out of `settings.checks` still report their
 * score, with verdict `pass`, so dashboards and `calibrate-gate` see them; only the chosen ones
 * can warn or refuse. `kernels` run the document gate's per-pixel passes (WebAssembly or the
 * JavaScript reference).
 *
 * @example
 * const report = runContentGate(frame, config.quality, gateSettingsSchema.parse({ content: 'scene' }));
 */
export function runContentGate(frame: Frame, quality: QualityConfig, settings: GateSettings | undefined, gray: GrayFrame = toGray(frame), kernels?: QualityKernels): QualityReport {
  const report = settings?.content === 'scene' ? runSceneGate(frame, settings.scene, settings.modelInput, gray) : runQualityGate(frame, quality, gray, kernels);
  return withEnabledChecks(report, settings);
}

/** `report` with only the checks `settings.checks` chooses able to warn or refuse (all of them without settings). */
export function withEnabledChecks(report: QualityReport, settings: GateSettings | undefined): QualityReport {
  const enabled = settings?.checks;
  if (enabled === undefined) return report;
  return reportOf(report.checks.map((check) => (enabled.includes(check.name) ? check : { ...check, verdict: 'pass', guidance: null })));
}
