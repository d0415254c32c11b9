import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { VisionopsError } from '../../core/errors.js';
import type { ModelRole } from '../../quantize/calibrate.js';
import { quantizeBuiltin, type QuantizeReport } from '../../quantize/quantize.js';
import { createVisionops } from '../../app/visionops.js';
import type { Config } from '../../config/schema.js';
import { modelsDirOf, readRegisteredModel } from '../../registry/local-models.js';
import { registerBuiltins, registerVersion } from '../../registry/registry.js';
import { EXIT } from '../exit-codes.js';
import { collectFiles } from '../files.js';
import { asString, commandConfig, withConfigOptions, type ConfigOptions } from '../options.js';

interface QuantizeCommandOptions extends ConfigOptions {
  calibrate: string;
  out?: string;
  data?: string;
  holdBackEvery: string;
  json?: boolean;
  versionName?: string;
  dataset?: string;
}

const ROLES: ModelRole[] = ['recognition', 'detection', 'orientation'];

function describe(report: QuantizeReport): string {
  const accuracy =
    report.accuracy.metric === 'cer_vs_fp32_points'
      ? `character error rate against FP32's reading: ${report.accuracy.value.toFixed(2)} points`
      : `${report.accuracy.metric.replace(/_/g, ' ')}: ${(100 * report.accuracy.value).toFixed(1)}%`;
  return [
    `registered ${report.model.id}@${report.model.version} (parent ${report.parent.id}@${report.parent.version})`,
    `  weights   ${report.model.path}  sha256 ${report.model.sha256}`,
    `  quantised ${report.summary.quantizedConv} Conv and ${report.summary.quantizedMatMul} MatMul, ${report.summary.activations} activations; ${report.summary.foldedBatchNorms} BatchNormalization folded`,
    `  calibrated on ${report.calibration.inputs} inputs from ${report.calibration.images} images; judged on ${report.heldBack.inputs} inputs from ${report.heldBack.images} held-back images`,
    `  speed-up  x${report.speedup.toFixed(2)} (FP32 ${report.fp32Ms.toFixed(0)} ms, INT8 ${report.int8Ms.toFixed(0)} ms, one input at a time)`,
    `  accuracy  ${accuracy}`,
    '',
  ].join('\n');
}

/**
 * `visionops quantize <model> --calibrate <folder>`: static QDQ INT8 of a built-in model,
 * calibrated on the folder's images with the model's own preprocessing, judged on the images it
 * held back, registered under data.dir/models as a new version with its parent noted.
 */
export function registerQuantize(program: Command): void {
  withConfigOptions(program.command('quantize'))
    .description('make a static INT8 (QDQ) version of a built-in model, calibrated on your images; reports speed-up and accuracy cost')
    .argument('<model>', `the built-in model: ${ROLES.join(', ')}`)
    .requiredOption('--calibrate <folder>', 'images like the ones the model will see (pages of text); every 4th is held back to judge the result')
    .option('-o, --out <file>', 'also write the INT8 ONNX file here')
    .option('-d, --data <dir>', 'data directory whose models/ folder receives the new version (sets data.dir)')
    .option('--hold-back-every <n>', 'hold back every n-th image from calibration', '4')
    .option('--json', 'print the report as JSON')
    .option('--version-name <name>', "the new version's name (default: the built-in version with -int8)")
    .option('--dataset <id>', "the dataset export's manifest id the calibration images came from, kept in the registry")
    .action(async (model: string, options: QuantizeCommandOptions) => {
      if (!ROLES.includes(model as ModelRole)) {
        throw new VisionopsError('INVALID_REQUEST', `There is no built-in model "${model}": name one of ${ROLES.join(', ')}.`);
      }
      const holdBackEvery = Number(options.holdBackEvery);
      if (!Number.isInteger(holdBackEvery) || holdBackEvery < 2) {
        throw new VisionopsError('INVALID_REQUEST', `--hold-back-every must be a whole number of at least 2, not "${options.holdBackEvery}".`);
      }
      const config = commandConfig(options, { 'data.dir': asString(options.data) });
      const files = await collectFiles([options.calibrate]);
      const { report, bytes } = await quantizeBuiltin({
        role: model as ModelRole,
        files,
        holdBackEvery,
        modelsDir: modelsDirOf(config.data.dir),
        settings: { ingest: config.ingest, pipeline: config.pipeline, runtime: config.runtime },
        log: (line) => process.stderr.write(`${line}\n`),
        version: options.versionName,
      });
      await registerQuantized(config, report, options.dataset);
      if (options.out !== undefined) await writeFile(options.out, bytes);
      process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : describe(report));
      process.exitCode = EXIT.ok;
    });
}

/** The INT8 version in the registry as a version of its parent's slot, off until staged (visionops models stage). */
async function registerQuantized(config: Config, report: QuantizeReport, dataset: string | undefined): Promise<void> {
  const { stores, close } = await createVisionops(config, { scope: 'store' });
  try {
    await registerBuiltins(stores.models);
    const written = await readRegisteredModel(modelsDirOf(config.data.dir), `${report.model.id}@${report.model.version}`);
    await registerVersion(stores.models, {
      manifest: { ...written.manifest, id: report.parent.id },
      origin: 'quantize',
      parent: report.parent.version,
      dataset: dataset ?? null,
      notes: written.notes,
    });
    process.stderr.write(`in the registry as ${report.parent.id}@${report.model.version}: try it with visionops models stage ${report.parent.id} ${report.model.version} shadow\n`);
  } finally {
    await close();
  }
}
