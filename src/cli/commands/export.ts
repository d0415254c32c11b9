import type { Command } from 'commander';
import { createVisionops } from '../../app/visionops.js';
import { VisionopsError } from '../../core/errors.js';
import { exportDataset } from '../../review/export/export.js';
import { EXPORT_FORMATS, type ExportFormat } from '../../review/export/formats.js';
import { exportOwn, OWN_EXPORT_FORMATS, type OwnExportFormat } from './export-own.js';
import { asString, commandConfig, withConfigOptions, type ConfigOptions } from '../options.js';

interface ExportCommandOptions extends ConfigOptions {
  out: string;
  format: string;
  data?: string;
  since?: string;
  onlyCorrected?: boolean;
  imagePrefix?: string;
  pipeline?: string;
}

const FORMATS: readonly string[] = [...EXPORT_FORMATS, ...OWN_EXPORT_FORMATS];

/** `visionops export`: reviewed pages and their corrected labels as a versioned dataset. */
export function registerExport(program: Command): void {
  withConfigOptions(program.command('export'))
    .description('write the reviewed images with their corrected labels as a dataset version (manifest.json with hashes and an id)')
    .requiredOption('-o, --out <dir>', 'a new or empty folder to write into')
    .requiredOption('-f, --format <format>', `one of ${FORMATS.join(', ')} (coco and yolo: detection; imagefolder: classification)`)
    .option('-d, --data <dir>', 'data directory holding the reviews (sets data.dir)')
    .option('--since <date>', 'only answers given at or after this date or time (ISO 8601, e.g. 2026-11-01)')
    .option('--only-corrected', 'only pages a person corrected')
    .option('--image-prefix <prefix>', "label-studio: what comes before images/... in data.ocr (default Label Studio's local files, /data/local-files/?d=)")
    .option('--pipeline <name>', "coco, yolo, imagefolder: only this pipeline's records, with its manifest's labels as the classes")
    .action(async (options: ExportCommandOptions) => {
      if (!FORMATS.includes(options.format)) {
        throw new VisionopsError('INVALID_REQUEST', `--format ${options.format} is not known: use one of ${FORMATS.join(', ')}.`);
      }
      const since = options.since === undefined ? undefined : new Date(options.since);
      if (since !== undefined && Number.isNaN(since.getTime())) {
        throw new VisionopsError('INVALID_REQUEST', `--since ${options.since} is not a date: write it as ISO 8601, e.g. 2026-11-01 or 2026-11-01T08:00:00Z.`);
      }
      const config = commandConfig(options, { 'data.dir': asString(options.data) });
      if ((OWN_EXPORT_FORMATS as readonly string[]).includes(options.format)) {
        await exportOwn(config, { out: options.out, format: options.format as OwnExportFormat, pipeline: options.pipeline, since, onlyReviewed: options.onlyCorrected ?? false });
        return;
      }
      const { stores, close } = await createVisionops(config, { scope: 'store' });
      try {
        const { manifest, unusableSkipped } = await exportDataset(stores.reviews, stores.blobs, {
          out: options.out,
          format: options.format as ExportFormat,
          since,
          onlyCorrected: options.onlyCorrected ?? false,
          imagePrefix: options.imagePrefix,
          limits: config.ingest,
        });
        // The registry keeps the export, so a version made from it leads back to its reviews (visionops lineage).
        await stores.models.saveDataset({ id: manifest.id, createdAt: new Date().toISOString(), format: manifest.format, predictions: manifest.predictions, modelVersions: manifest.modelVersions });
        const { images, lines, correctedLines, files } = manifest.counts;
        process.stdout.write(
          `dataset ${manifest.id}: ${images} images, ${lines} lines (${correctedLines} corrected), ${files} files in ${options.out}` +
            `${unusableSkipped > 0 ? `; ${unusableSkipped} pages marked unusable left out` : ''}\n`,
        );
      } finally {
        await close();
      }
    });
}
