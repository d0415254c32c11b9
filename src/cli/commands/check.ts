import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { isVisionopsError } from '../../core/errors.js';
import type { QualityCheck } from '../../core/quality/types.js';
import { createVisionops } from '../../app/visionops.js';
import type { StageRunner } from '../../pipeline/runner.js';
import { checkImage, type CheckOutcome } from '../../pipeline/service.js';
import { EXIT } from '../exit-codes.js';
import { collectFiles } from '../files.js';
import { commandConfig, withConfigOptions, type ConfigOptions } from '../options.js';

interface CheckOptions extends ConfigOptions {
  json?: boolean;
  pipeline?: string;
}

type FileOutcome = { file: string; check: CheckOutcome } | { file: string; error: { code: string; message: string } };

const MARK = { pass: 'ok', warn: 'warn', fail: 'FAIL' } as const;

/**
 * `visionops check`: the quality gate alone, no models, no store. Each finding comes with the
 * guidance the person capturing the image can act on. Exit 1 when any file fails or cannot be read.
 */
export function registerCheck(program: Command): void {
  withConfigOptions(program.command('check'))
    .description('run the quality gate on images (no models): each finding with its guidance')
    .argument('<paths...>', 'image files, or folders to search for images')
    .option('--json', 'one JSON line per file instead of text')
    .option('--pipeline <name>', "whose region of interest to gate (default: the first configured pipeline's)")
    .action(async (paths: string[], options: CheckOptions) => {
      const config = commandConfig(options);
      const runner = (await createVisionops(config, { scope: 'gate' })).runner(options.pipeline);
      const files = await collectFiles(paths);
      let failed = 0;
      for (const file of files) {
        const outcome = await checkFile(file, runner);
        if ('error' in outcome || outcome.check.quality.verdict === 'fail') failed++;
        process.stdout.write(options.json ? `${JSON.stringify(outcome)}\n` : describe(outcome));
      }
      if (!options.json) process.stdout.write(`${files.length} checked, ${files.length - failed} usable, ${failed} not\n`);
      process.exitCode = failed > 0 ? EXIT.someFailed : EXIT.ok;
    });
}

async function checkFile(file: string, runner: StageRunner): Promise<FileOutcome> {
  try {
    return { file, check: await checkImage(runner, await readFile(file)) };
  } catch (error) {
    if (!isVisionopsError(error)) throw error;
    return { file, error: { code: error.code, message: error.message } };
  }
}

function describe(outcome: FileOutcome): string {
  if ('error' in outcome) return `${outcome.file}: error ${outcome.error.code}: ${outcome.error.message}\n`;
  const { image, quality } = outcome.check;
  const findings = quality.checks.filter((check) => check.verdict !== 'pass').map(finding);
  return `${outcome.file}: ${quality.verdict} (${image.format} ${image.width}x${image.height})\n${findings.join('')}`;
}

function finding(check: QualityCheck): string {
  const guidance = check.guidance ?? 'no guidance given';
  return `  ${MARK[check.verdict]} ${check.name} (score ${round(check.score)}, threshold ${round(check.threshold)}): ${guidance}\n`;
}

function round(value: number): number {
  return Number(value.toPrecision(3));
}
