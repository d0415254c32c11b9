import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { VisionopsError } from '../../core/errors.js';
import { ingestImage } from '../../image/ingest.js';
import { calibrationInputs, comparisonFor, type QuantizableRole } from '../../pipeline/calibration.js';
import { loadDocumentPipeline } from '../../pipeline/document.js';
import { builtinManifests } from '../../runtime/builtin.js';
import type { Feeds } from '../../runtime/quantize/quantize-model.js';
import { quantizeModel } from '../../runtime/quantize/quantize-model.js';
import { registerModel } from '../../runtime/registry.js';
import { collectFiles } from '../files.js';
import { asString, commandConfig, withConfigOptions, type ConfigOptions } from '../options.js';
import { createProgress } from '../progress.js';

interface QuantizeOptions extends ConfigOptions {
  calibrate: string;
  out?: string;
  data?: string;
  maxInputs: string;
}

const ROLES: QuantizableRole[] = ['recognition', 'detection'];
/** Every fifth image is held back from calibration to measure speed and accuracy on. */
const HOLD_BACK_EVERY = 5;

/**
 * `visionops quantize <model> --calibrate <folder>`: static INT8 (QDQ) quantisation of one of the
 * built-in document models, calibrated on the folder's images through the model's own
 * preprocessing, measured against the float model on held-back images, and registered under the
 * data directory as a new version with its parent noted.
 */
export function registerQuantize(program: Command): void {
  withConfigOptions(program.command('quantize'))
    .description('INT8-quantise a built-in model on calibration images; reports speed-up and accuracy cost, registers the new version')
    .argument('<model>', `the model to quantise: ${ROLES.join(' or ')}`)
    .requiredOption('--calibrate <folder>', 'images like the ones the model will see (pages of documents)')
    .option('-o, --out <file>', 'also write the quantised ONNX model to this file')
    .option('-d, --data <dir>', 'data directory where models are registered (sets data.dir)')
    .option('--max-inputs <n>', 'calibrate on at most this many model inputs', '300')
    .action(async (role: string, options: QuantizeOptions) => {
      if (!ROLES.includes(role as QuantizableRole)) {
        throw new VisionopsError('INVALID_REQUEST', `Cannot quantise "${role}": name ${ROLES.join(' or ')}.`);
      }
      const config = commandConfig(options, { 'data.dir': asString(options.data) });
      const manifest = (await builtinManifests())[role as QuantizableRole];
      const files = await collectFiles([options.calibrate]);
      if (files.length < 2) throw new VisionopsError('INVALID_REQUEST', `Calibration needs at least two images (one is held back); ${options.calibrate} has ${files.length}.`);
      const maxInputs = Number(options.maxInputs);

      const pipeline = await loadDocumentPipeline(config.pipeline, config.runtime);
      const calibration: Feeds[] = [];
      const heldBack: Feeds[] = [];
      const reading = createProgress(files.length);
      try {
        for (const [i, file] of files.entries()) {
          const image = await ingestImage(await readFile(file), config.ingest);
          const inputs = await calibrationInputs(role as QuantizableRole, manifest, image.frame, pipeline);
          const target = i % HOLD_BACK_EVERY === HOLD_BACK_EVERY - 1 ? heldBack : calibration;
          target.push(...inputs.slice(0, Math.max(0, maxInputs - target.length)));
          reading.tick(file);
        }
      } finally {
        reading.stop();
        await pipeline.close();
      }
      if (calibration.length === 0 || heldBack.length === 0) {
        throw new VisionopsError('INVALID_REQUEST', `The calibration images gave ${calibration.length} inputs to calibrate on and ${heldBack.length} to check on: give pages with text.`);
      }

      const stages = createProgress(calibration.length + heldBack.length);
      const { weights, report } = await quantizeModel({
        path: manifest.path,
        calibration,
        heldBack,
        compare: comparisonFor(role as QuantizableRole, manifest),
        threads: config.runtime.intraOpThreads,
        onProgress: (stage) => stages.tick(stage),
      }).finally(() => stages.stop());

      const registered = await registerModel(
        config.data.dir,
        {
          ...manifest,
          version: `${manifest.version}-int8.${createHash('sha256').update(weights).digest('hex').slice(0, 8)}`,
          parent: { id: manifest.id, version: manifest.version, sha256: manifest.sha256 },
          metrics: { ...manifest.metrics, int8Speedup: report.speedup, int8ErrorRateVsParent: report.errorRate },
        },
        weights,
      );
      if (options.out) await writeFile(options.out, weights);
      const accuracy = role === 'recognition' ? 'character error rate against the float model' : 'boxes not matched (IoU >= 0.5) between the two';
      process.stdout.write(
        [
          `quantised ${manifest.id}@${manifest.version}: ${report.quantizedNodes} Conv/MatMul nodes to int8 (${report.calibrationInputs} calibration inputs, ${report.heldBackInputs} held back)`,
          `rewrote ${report.hardSwishFused} hard-swish chains (x * clip(x + 3, 0, 6) / 6) to HardSigmoid and Mul`,
          `speed per input: ${report.floatMs.toFixed(1)} ms float, ${report.rewrittenFloatMs.toFixed(1)} ms float with the rewrite alone, ${report.int8Ms.toFixed(1)} ms int8: ${report.speedup.toFixed(2)}x the parent`,
          `accuracy cost: ${(report.errorRate * 100).toFixed(2)}% ${accuracy}`,
          `size: ${(report.bytes.float / 1e6).toFixed(1)} MB -> ${(report.bytes.int8 / 1e6).toFixed(1)} MB`,
          `registered ${registered.id}@${registered.version} (parent ${manifest.id}@${manifest.version}) at ${registered.path}`,
          JSON.stringify({ model: `${registered.id}@${registered.version}`, sha256: registered.sha256, ...report }),
        ].join('\n') + '\n',
      );
    });
}
