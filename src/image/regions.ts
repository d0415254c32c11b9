import sharp from 'sharp';
import { assertCropCount, rebuildPage, type RegionsManifest, type TextRegions } from '../core/edge/regions.js';
import { isVisionopsError, VisionopsError } from '../core/errors.js';
import type { Frame } from '../core/frame.js';
import type { LineReading } from '../core/postprocess/recognition.js';
import type { EdgeConfig } from '../edge/config.js';
import type { IngestConfig } from './config.js';
import { decodeAdmission } from './admission.js';
import { ingestImage } from './ingest.js';

/** A regions upload as it arrived: the manifest already held to its limits, and one file per region. */
export interface RegionsUpload {
  manifest: RegionsManifest;
  crops: Uint8Array[];
}

/** What the path takes from a regions upload: the page rebuilt from the crops (a PNG, the record's image) and the regions to read. */
export interface RegionsPage {
  bytes: Uint8Array;
  regions: TextRegions;
}

/**
 * Decodes each crop as ingest decodes an upload (sniffed, within `ingest.maxBytes` and, per crop,
 * `edge.regions.maxCropPixels`, refused before decoding), then rebuilds the page from them
 * (`rebuildPage`) as a PNG: lossless, and the same bytes for the same upload, so a retry under one
 * Idempotency-Key names the same image. `readings`: the device's reading of the regions, kept with them.
 */
export async function ingestRegions({ manifest, crops }: RegionsUpload, config: IngestConfig, limits: EdgeConfig['regions'], readings?: LineReading[]): Promise<RegionsPage> {
  assertCropCount(crops.length, manifest.regions.length);
  const cropLimits = { ...config, maxPixels: Math.min(config.maxPixels, limits.maxCropPixels) };
  const frames: Frame[] = [];
  for (const [index, bytes] of crops.entries()) frames.push(await ingestCrop(bytes, index, cropLimits));
  const regions: TextRegions = { frame: manifest.frame, quads: manifest.regions.map((region) => region.quad), crops: frames, ...(readings === undefined ? {} : { readings }) };
  // The page is as many pixels as a decoded upload of the frame's size: it waits for room in the same budget.
  const release = await decodeAdmission.admit(manifest.frame.width * manifest.frame.height, { budget: config.inflightPixels, waitMs: config.inflightWaitMs });
  try {
    const page = rebuildPage(regions);
    const png = await sharp(Buffer.from(page.data.buffer, page.data.byteOffset, page.data.byteLength), { raw: { width: page.width, height: page.height, channels: page.channels } })
      .png({ compressionLevel: 4 })
      .toBuffer();
    return { bytes: new Uint8Array(png.buffer, png.byteOffset, png.byteLength), regions };
  } finally {
    release();
  }
}

/** One crop decoded, its refusal naming it; a crop over the pixel limit is IMAGE_TOO_LARGE (`CROP_TOO_LARGE`). */
async function ingestCrop(bytes: Uint8Array, index: number, limits: IngestConfig): Promise<Frame> {
  try {
    return (await ingestImage(bytes, limits)).frame;
  } catch (error) {
    if (!isVisionopsError(error)) throw error;
    const tooManyPixels = error.code === 'IMAGE_TOO_LARGE' && typeof error.details?.maxPixels === 'number';
    const message = tooManyPixels
      ? `Crop ${index} is ${String(error.details?.width)} x ${String(error.details?.height)} pixels, over the limit of ${limits.maxPixels.toLocaleString('en-US')} for one crop: cut tighter regions, or raise \`edge.regions.maxCropPixels\`.`
      : `Crop ${index}: ${error.message}`;
    throw new VisionopsError(error.code, message, { ...error.details, crop: index, ...(tooManyPixels ? { problem: 'CROP_TOO_LARGE' } : {}) }, { cause: error });
  }
}
