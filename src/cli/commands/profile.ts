import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { isVisionopsError } from '../../core/errors.js';
import type { MonitorObservation } from '../../core/monitor/features.js';
import { describeUnjudged, featuresTooSparseToJudge } from '../../core/monitor/drift.js';
import { PROFILE_DEFAULTS, buildReferenceProfile } from '../../core/monitor/profile.js';
import { createVisionops } from '../../app/visionops.js';
import { observe } from '../../monitor/observation.js';
import { EXIT } from '../exit-codes.js';
import { collectFiles } from '../files.js';
import { commandConfig, withConfigOptions, type ConfigOptions } from '../options.js';
import { createProgress } from '../progress.js';

interface ProfileOptions extends ConfigOptions {
  out: string;
  gateOnly?: boolean;
  pipeline?: string;
}

/**
 * `visionops profile`: the reference profile of known-good images, for `monitor.reference.file`.
 * Each image goes through the gate and, unless `--gate-only`, the models, so the profile holds the
 * distributions of confidence and output too.
 */
export function registerProfile(program: Command): void {
  withConfigOptions(program.command('profile'))
    .description('write the reference profile of known-good images, against which drift is judged')
    .argument('<paths...>', 'image files, or folders to search for images')
    .requiredOption('-o, --out <file>', 'where to write the profile (JSON)')
    .option('--gate-only', 'skip the models: profile the gate scores and the image descriptor only')
    .option('--pipeline <name>', 'one of the configured pipelines (default: the first)')
    .action(async (paths: string[], options: ProfileOptions) => {
      const config = commandConfig(options);
      const files = await collectFiles(paths);
      const visionops = await createVisionops(config, { scope: options.gateOnly ? 'gate' : 'read' });
      const observations: MonitorObservation[] = [];
      const progress = createProgress(files.length);
      let failed = 0;
      try {
        const runner = visionops.runner(options.pipeline);
        for (const file of files) {
          try {
            observations.push(await observe(runner, await readFile(file)));
          } catch (error) {
            if (!isVisionopsError(error)) throw error;
            failed++;
            progress.note(`${file}: ${error.code}: ${error.message}`);
          }
          progress.tick(file);
        }
      } finally {
        progress.stop();
        await visionops.close();
      }
      if (observations.length < 2) {
        process.stderr.write(`visionops: too few readable images for a profile (${observations.length}); give it tens to hundreds of known-good images.\n`);
        process.exitCode = EXIT.cannotRun;
        return;
      }
      const { outliers } = config.monitor;
      const profile = buildReferenceProfile(observations, {
        ...PROFILE_DEFAULTS,
        neighbours: outliers.neighbours,
        outlierQuantile: 1 - outliers.referenceShare,
        source: `profile of ${paths.join(', ')}${options.gateOnly ? ' (gate only)' : ''}`,
        createdAt: new Date().toISOString(),
      });
      await writeFile(options.out, `${JSON.stringify(profile)}\n`);
      process.stdout.write(
        `Profile of ${observations.length} images written to ${options.out}: ${Object.keys(profile.features).length} features, ` +
          `${profile.descriptor.points.length} descriptors, outlier threshold ${profile.descriptor.outlierThreshold.toFixed(2)}.\n`,
      );
      const { minImages } = config.monitor.drift;
      const unjudged = describeUnjudged(featuresTooSparseToJudge(profile, minImages), minImages);
      if (unjudged !== null) process.stderr.write(`visionops: warning: ${unjudged}\n`);
      process.exitCode = failed > 0 ? EXIT.someFailed : EXIT.ok;
    });
}
