import { createVisionops } from '../../app/visionops.js';
import type { Config } from '../../config/schema.js';
import { configuredPipeline } from '../../pipeline/pipelines.js';
import { readManifestFile } from '../../pipeline/own/read-manifest.js';
import { exportOwnDataset, OWN_EXPORT_FORMATS, type OwnExportFormat } from '../../review/export/own-formats.js';

export { OWN_EXPORT_FORMATS, type OwnExportFormat };

/** `visionops export --format coco|yolo|imagefolder`: classification and detection records as a dataset, labelled by reviews where given. */
export async function exportOwn(config: Config, options: { out: string; format: OwnExportFormat; pipeline?: string; since?: Date; onlyReviewed: boolean }): Promise<void> {
  const { stores, close, config: effective } = await createVisionops(config, { scope: 'store' });
  try {
    const entry = options.pipeline === undefined ? undefined : configuredPipeline(effective, options.pipeline);
    const labels = entry?.manifest === undefined ? undefined : (await readManifestFile(entry.manifest)).labels;
    const { manifest, unusableSkipped, labels: count, reviewed } = await exportOwnDataset(stores.predictions, stores.reviews, stores.blobs, {
      ...options,
      labels,
      limits: config.ingest,
    });
    const what = options.format === 'imagefolder' ? 'labelled images' : 'boxes';
    process.stdout.write(
      `dataset ${manifest.id}: ${manifest.counts.images} images (${reviewed} reviewed), ${count} ${what}, ${manifest.counts.files} files in ${options.out}` +
        `${unusableSkipped > 0 ? `; ${unusableSkipped} images marked unusable left out` : ''}\n`,
    );
  } finally {
    await close();
  }
}
