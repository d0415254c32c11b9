import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { VisionopsError } from '../../core/errors.js';
import { proposeThresholds, thresholdSnippet, type ProposedThreshold } from '../../core/quality/calibrate.js';
import { runContentGate } from '../../core/quality/content-gate.js';
import { GATE_CONTENT, gateSettingsSchema, type GateContent } from '../../core/quality/gate-settings.js';
import type { QualityReport } from '../../core/quality/types.js';
import type { Config } from '../../config/schema.js';
import { ingestImage } from '../../image/ingest.js';
import { EXIT } from '../exit-codes.js';
import { collectFiles } from '../files.js';
import { commandConfig, withConfigOptions, type ConfigOptions } from '../options.js';

interface CalibrateOptions extends ConfigOptions {
  bad?: string;
  content: string;
  json?: boolean;
  failPercentile: string;
  warnPercentile: string;
}

/**
 * `visionops calibrate-gate`: the gate's scores on a team's own good captures (and bad ones, when
 * given), and the thresholds they suggest, as a snippet to paste into the configuration or a
 * manifest. Images that cannot be read are reported and left out.
 */
export function registerCalibrateGate(program: Command): void {
  withConfigOptions(program.command('calibrate-gate'))
    .description("propose quality-gate thresholds from your own captures: percentiles of good images, or the best separation from bad ones")
    .argument('<good>', 'a folder (or file) of images the gate must accept')
    .option('--bad <folder>', 'a folder of images the gate should refuse')
    .option('--content <type>', `what the images show: ${GATE_CONTENT.join(' or ')}`, 'scene')
    .option('--fail-percentile <p>', "refuse below this percentile of the good images' scores", '1')
    .option('--warn-percentile <p>', "warn below this percentile of the good images' scores", '5')
    .option('--json', 'the proposals and the snippet as one JSON object')
    .action(async (good: string, options: CalibrateOptions) => {
      const content = contentOf(options.content);
      const percentiles = { failPercentile: percentileOf(options.failPercentile, '--fail-percentile'), warnPercentile: percentileOf(options.warnPercentile, '--warn-percentile') };
      const config = commandConfig(options);
      const goodReports = await gateAll(await collectFiles([good]), content, config);
      const badReports = options.bad === undefined ? [] : await gateAll(await collectFiles([options.bad]), content, config);
      const proposals = proposeThresholds(content, goodReports, badReports, percentiles);
      const snippet = thresholdSnippet(content, proposals);
      if (options.json) process.stdout.write(`${JSON.stringify({ content, good: goodReports.length, bad: badReports.length, proposals, snippet })}\n`);
      else process.stdout.write(describe(content, goodReports.length, badReports.length, proposals, snippet));
      process.exitCode = EXIT.ok;
    });
}

function contentOf(value: string): GateContent {
  const content = GATE_CONTENT.find((known) => known === value);
  if (content === undefined) throw new VisionopsError('INVALID_REQUEST', `--content "${value}" is not a content type: use ${GATE_CONTENT.join(' or ')}.`);
  return content;
}

function percentileOf(value: string, flag: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0 || number > 100) throw new VisionopsError('INVALID_REQUEST', `${flag} "${value}" is not a percentile: use a number from 0 to 100.`);
  return number;
}

/** Each image through the gate as the server would gate it (ingest's limits and orientation); unreadable ones reported on stderr and skipped. */
async function gateAll(files: string[], content: GateContent, config: Config): Promise<QualityReport[]> {
  const settings = gateSettingsSchema.parse({ content });
  const reports: QualityReport[] = [];
  for (const file of files) {
    try {
      const image = await ingestImage(await readFile(file), config.ingest);
      reports.push(runContentGate(image.frame, config.quality, settings, image.luma));
    } catch (error) {
      if (!(error instanceof VisionopsError)) throw error;
      process.stderr.write(`${file}: skipped, ${error.code}: ${error.message}\n`);
    }
  }
  return reports;
}

function describe(content: GateContent, good: number, bad: number, proposals: ProposedThreshold[], snippet: Record<string, unknown>): string {
  const lines = [`${good} good${bad > 0 ? ` and ${bad} bad` : ''} ${content} images measured.`];
  for (const p of proposals) {
    const how = p.method === 'separation' ? 'best separation of good from bad' : 'percentiles of the good images';
    const errors = p.badPassed === null ? `refuses ${percent(p.goodRefused)} of the good images` : `refuses ${percent(p.goodRefused)} of the good images, lets ${percent(p.badPassed)} of the bad through`;
    lines.push(`  ${p.check}: refuse below ${round(p.fail)}, warn below ${round(p.warn)} (${how}; ${errors}; measured on ${p.good} good, ${p.bad} bad)`);
  }
  if (proposals.length === 0) lines.push('  No check could measure these images: nothing to propose.');
  const where = content === 'scene' ? "Paste into the pipeline's manifest (its gate object):" : 'Paste into the configuration file (its quality section):';
  return `${lines.join('\n')}\n${where}\n${JSON.stringify(snippet, null, 2)}\n`;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

function round(value: number): number {
  return Number(value.toPrecision(3));
}
