import type { Command } from 'commander';
import { VisionopsError } from '../../core/errors.js';
import { checkParity, type ParityFile } from '../../pipeline/own/parity.js';
import { withRegisteredPipelines } from '../../pipeline/own/registered.js';
import { EXIT } from '../exit-codes.js';
import { commandConfig, withConfigOptions, type ConfigOptions } from '../options.js';

interface ParityOptions extends ConfigOptions {
  reference: string;
  tolerance?: string;
  json?: boolean;
}

const figure = (value: number) => value.toPrecision(3);

function describe(file: ParityFile, tolerance: number): string {
  if (file.difference === null) return `FAIL ${file.name}: ${file.problem}\n`;
  const { max, mean, over } = file.difference;
  const head = `${file.passed ? 'ok  ' : 'FAIL'} ${file.name}: max ${figure(max)}, mean ${figure(mean)}`;
  if (file.first === null) return `${head}\n`;
  const { x, y, channel, channelName, ours, reference } = file.first;
  return `${head}; ${over} of ${file.dims.reduce((a, b) => a * b, 1)} elements over ${figure(tolerance)}, the first at pixel x ${x}, y ${y}, channel ${channel} (${channelName}): visionops ${figure(ours)}, reference ${figure(reference)}\n`;
}

/** `visionops parity`: the input tensors serving makes, against the ones the training code saved. Exit 1 when any differs beyond the tolerance. */
export function registerParity(program: Command): void {
  withConfigOptions(program.command('parity'))
    .description("compare a pipeline's input tensors with reference tensors saved by the training code (NAME.png + NAME.npy pairs)")
    .argument('<pipeline>', 'a classification or detection pipeline, configured or registered')
    .requiredOption('--reference <dir>', 'folder of NAME.png (or .jpg) images, each with NAME.npy: float32, the input tensor without its batch dimension')
    .option('--tolerance <t>', 'largest absolute difference allowed per element (default: one level of 255 in the normalised range)')
    .option('--json', 'the report as JSON')
    .action(async (pipeline: string, options: ParityOptions) => {
      const tolerance = options.tolerance === undefined ? undefined : Number(options.tolerance);
      if (tolerance !== undefined && !(tolerance >= 0)) throw new VisionopsError('INVALID_REQUEST', `--tolerance ${options.tolerance} is not a number of 0 or more.`);
      const config = await withRegisteredPipelines(commandConfig(options));
      const report = await checkParity(config, pipeline, options.reference, tolerance);
      if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else {
        for (const file of report.files) process.stdout.write(describe(file, report.tolerance));
        for (const file of report.unpaired) process.stdout.write(`skipped ${file}: no image or .npy beside it\n`);
        const failed = report.files.filter((file) => !file.passed).length;
        process.stdout.write(`${report.files.length} compared, ${report.files.length - failed} within ${figure(report.tolerance)}, ${failed} not\n`);
      }
      process.exitCode = report.passed ? EXIT.ok : EXIT.someFailed;
    });
}
