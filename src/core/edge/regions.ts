import { z } from 'zod';
import { VisionopsError } from '../errors.js';
import type { Frame } from '../frame.js';
import type { Quad } from '../postprocess/geometry.js';
import { extractTextBoxes, sortReadingOrder } from '../postprocess/db.js';
import { DETECTION_POSTPROCESS, DETECTION_PREPROCESS } from '../preprocess/builtin-specs.js';
import { cropQuad } from '../preprocess/crop.js';
import { resizeWith } from '../preprocess/interpolation.js';
import { rotateFrame } from '../preprocess/rotate.js';
import { toTensor } from '../preprocess/tensor.js';
import type { LineReading } from '../postprocess/recognition.js';
import { EDGE_ROUTE_HEADER, type DeviceModel, type EdgeRoute } from './route.js';

/**
 * A regions upload: the text regions a device's detector found, each cut from the full-resolution
 * frame by `cropQuad`, instead of the page. `POST /v1/predict/regions` takes a multipart body of
 * one JSON field `regions` (a `RegionsManifest`) and one file field `crop` per region, in the
 * manifest's order.
 */
export const REGIONS_PATH = '/v1/predict/regions';
export const REGIONS_FIELD = 'regions';
export const CROP_FIELD = 'crop';

/**
 * Each region's quadrilateral (top-left, top-right, bottom-right, bottom-left) in the coordinates
 * of the frame it was cut from and, from a device that read its crops (policy `device`), its reading.
 */
export interface RegionsManifest {
  frame: { width: number; height: number };
  regions: { quad: Quad; reading?: LineReading }[];
}

/** The long side a device's detector reads a frame at: the server's is 960; a third of the pixels is enough to find the lines. */
export const DEVICE_DETECTION_SIDE = 640;

/** The built-in text detector's probability map for one input tensor, however the device runs it (onnxruntime-web, onnxruntime-node). */
export type DetectorRun = (tensor: { data: Float32Array; dims: number[] }) => Promise<ArrayLike<number>>;

/**
 * The text lines of a frame as a device finds them: the built-in detector at `longSide` (the
 * core's tensor and DB post-processing, as the server's), the quads in the frame's own
 * coordinates and in reading order, so the crops can be cut from the frame at full resolution.
 */
export async function findTextRegions(frame: Frame, detect: DetectorRun, longSide = DEVICE_DETECTION_SIDE): Promise<Quad[]> {
  const input = toTensor(frame, { ...DETECTION_PREPROCESS, resize: { mode: 'limit-long-side', target: longSide, multipleOf: 32 } });
  const map = await detect(input);
  const [height, width] = input.dims.slice(2);
  const found = extractTextBoxes({ data: Float32Array.from(map), width, height }, DETECTION_POSTPROCESS, frame.width, frame.height);
  return sortReadingOrder(found).map((box) => box.box);
}

/**
 * The height, at most, of a line a device sends: the recogniser reads a line 48 px high with a
 * tenth of its height added above and below (RECOGNITION_PREPROCESS), so 40 px of line; a taller
 * crop carries bytes it never reads.
 */
export const CROP_MAX_HEIGHT = 40;

/**
 * Each region cut from the full-resolution frame (`cropQuad`: every pixel the camera gave goes into
 * the straightened line), then, when taller than `maxHeight`, reduced to it by area averaging: what a device sends.
 */
export function cutRegions(frame: Frame, quads: Quad[], maxHeight = CROP_MAX_HEIGHT): Frame[] {
  return quads.map((quad) => {
    const crop = cropQuad(frame, quad);
    if (crop.height <= maxHeight) return crop;
    return resizeWith(crop, Math.max(1, Math.round((crop.width * maxHeight) / crop.height)), maxHeight, 'opencv-area');
  });
}

/**
 * The regions of one frame as the server reads them: the crops decoded, in the manifest's order,
 * and the device's reading of each when the device read them (the pipeline records it instead of reading).
 */
export interface TextRegions {
  frame: { width: number; height: number };
  quads: Quad[];
  crops: Frame[];
  readings?: LineReading[];
}

export interface RegionLimits {
  /** Crops in one upload. */
  maxCrops: number;
  /** Pixels of one region, as cut from the frame (the server puts each crop back at that size). */
  maxCropPixels: number;
  /** The frame the regions were cut from, in pixels: ingest's `maxPixels`. */
  maxFramePixels: number;
}

/** The longest line a device's reading may hold: a line of print is a few hundred characters at most. */
const MAX_READING_CHARACTERS = 1000;

const point = z.tuple([z.number().finite(), z.number().finite()]);
const manifestSchema = z
  .object({
    frame: z.object({ width: z.number().int().positive(), height: z.number().int().positive() }).strict(),
    regions: z.array(
      z
        .object({
          quad: z.tuple([point, point, point, point]),
          reading: z.object({ text: z.string().max(MAX_READING_CHARACTERS), confidence: z.number().min(0).max(1) }).strict().optional(),
        })
        .strict(),
    ),
  })
  .strict();

const MANIFEST_EXAMPLE = '{"frame":{"width":1920,"height":1080},"regions":[{"quad":[[100,80],[900,80],[900,130],[100,130]]}]}';

function refuse(problem: string, message: string, details: Record<string, unknown> = {}): never {
  throw new VisionopsError('INVALID_REGIONS', message, { problem, ...details });
}

/**
 * The manifest of a regions upload (its JSON text, or the value already parsed), held to the limits: malformed JSON or shape is INVALID_REGIONS
 * (`MALFORMED_REGIONS`), a corner outside the frame INVALID_REGIONS (`BOX_OUTSIDE_FRAME`), more
 * regions than `maxCrops` TOO_MANY_REGIONS, a frame over `maxFramePixels` IMAGE_TOO_LARGE.
 */
export function parseRegionsManifest(raw: unknown, limits: RegionLimits): RegionsManifest {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (error) {
      malformedJson((error as Error).message);
    }
  }
  const parsed = manifestSchema.safeParse(value);
  if (!parsed.success) {
    refuse('MALFORMED_REGIONS', `The field "${REGIONS_FIELD}" must be an object such as ${MANIFEST_EXAMPLE}.`, {
      issues: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    });
  }
  const manifest = parsed.data as RegionsManifest;
  const { width, height } = manifest.frame;
  if (width * height > limits.maxFramePixels) {
    throw new VisionopsError('IMAGE_TOO_LARGE', `The frame is ${width} x ${height}, over the limit of ${limits.maxFramePixels.toLocaleString('en-US')} pixels: send regions of a smaller frame, or raise \`ingest.maxPixels\`.`, { problem: 'FRAME_TOO_LARGE' });
  }
  if (manifest.regions.length > limits.maxCrops) {
    tooManyRegions(manifest.regions.length, limits.maxCrops);
  }
  let covered = 0;
  manifest.regions.forEach(({ quad }, index) => {
    if (quad.some(([x, y]) => x < 0 || y < 0 || x > width || y > height)) {
      refuse('BOX_OUTSIDE_FRAME', `Region ${index}'s quad ${JSON.stringify(quad)} reaches outside the ${width} x ${height} frame: send corners within 0..width and 0..height.`, { region: index });
    }
    const cut = cutSize(quad);
    if (cut.width * cut.height > limits.maxCropPixels) {
      throw new VisionopsError('IMAGE_TOO_LARGE', `Region ${index} is ${cut.width} x ${cut.height} pixels, over the limit of ${limits.maxCropPixels.toLocaleString('en-US')} for one region: send lines, not blocks, or raise \`edge.regions.maxCropPixels\`.`, { problem: 'CROP_TOO_LARGE', region: index });
    }
    covered += cut.width * cut.height;
  });
  // Lines barely overlap: regions covering the frame twice over are not a page's lines, and would cost the server their pixels.
  if (covered > 2 * width * height) {
    refuse('REGIONS_OVERLAP', `The regions cover ${covered.toLocaleString('en-US')} pixels, more than twice the ${width} x ${height} frame: send each text line once.`);
  }
  return manifest;
}

/**
 * The device's reading of the regions, when the upload carries one and its route may: every region
 * read (else INVALID_REGIONS `PARTIAL_READING`), a route under the `device` policy stating
 * "recognition" among its device stages (a reading without it, or such a route without a reading,
 * is INVALID_REGIONS `READING_NOT_STATED`), and the route naming the device's detector and
 * recogniser, every model it names being one the server serves to devices (`served`; else
 * INVALID_REGIONS `UNKNOWN_DEVICE_MODEL`). Undefined when the device did not read: the server reads the crops.
 */
export function deviceReadings(manifest: RegionsManifest, route: EdgeRoute | undefined, served: DeviceModel[]): LineReading[] | undefined {
  const read = manifest.regions.filter((region) => region.reading !== undefined).length;
  const stated = route?.policy === 'device' && route.device.includes('recognition');
  if (read === 0 && !stated) return undefined;
  if (read > 0 && read < manifest.regions.length) {
    refuse('PARTIAL_READING', `${read} of ${manifest.regions.length} regions carry a reading: send a reading for every region, or for none and the server reads them.`);
  }
  if (!stated) {
    refuse('READING_NOT_STATED', `Regions carry the device's reading, but ${EDGE_ROUTE_HEADER} does not state "policy": "device" with "recognition" among its "device" stages: state it, or send the regions without readings.`);
  }
  if (read === 0) {
    refuse('READING_NOT_STATED', `${EDGE_ROUTE_HEADER} states "recognition" on the device, but no region carries a reading: send each region's {"text", "confidence"} as "reading".`);
  }
  const named = route!.models ?? [];
  const unnamed = (['detection', 'recognition'] as const).filter((role) => !named.some((model) => model.role === role));
  const unknown = named.filter((used) => !served.some((model) => model.role === used.role && model.id === used.id && model.version === used.version));
  if (unnamed.length > 0 || unknown.length > 0) {
    const role = unnamed[0] ?? unknown[0].role;
    const known = served.filter((model) => model.role === role).map((model) => `${model.id}@${model.version}`);
    const problem = unnamed.length > 0 ? 'is not named' : `${unknown[0].id}@${unknown[0].version} is not one this server serves`;
    refuse('UNKNOWN_DEVICE_MODEL', `The device's ${role} model ${problem} in ${EDGE_ROUTE_HEADER}'s "models": a device reading is recorded only from the models served at /web/models/ (${known.join(' or ')}).`, { role, served: known });
  }
  return manifest.regions.map((region) => region.reading!);
}

/** INVALID_REGIONS (`MALFORMED_REGIONS`) for a manifest that is not JSON. */
export function malformedJson(reason: string): never {
  refuse('MALFORMED_REGIONS', `The field "${REGIONS_FIELD}" is not valid JSON (${reason}): send an object such as ${MANIFEST_EXAMPLE}.`);
}

export function tooManyRegions(count: number, maxCrops: number): never {
  throw new VisionopsError('TOO_MANY_REGIONS', `The upload holds ${count} regions, over the limit of ${maxCrops}: send the page instead (POST /v1/predict), or raise \`edge.regions.maxCrops\`.`, { problem: 'TOO_MANY_CROPS' });
}

/** A crop count that is not the manifest's: INVALID_REGIONS (`CROP_COUNT_MISMATCH`). */
export function assertCropCount(crops: number, regions: number): void {
  if (crops !== regions) {
    refuse('CROP_COUNT_MISMATCH', `The upload has ${crops} "${CROP_FIELD}" files for ${regions} regions: send one crop per region, in the manifest's order.`);
  }
}

/** The size of the quad's straightened content in the frame (as `cropQuad` measures it), and whether `cropQuad` turned it a quarter counter-clockwise (a vertical line). */
function cutSize([topLeft, topRight, bottomRight, bottomLeft]: Quad): { width: number; height: number; turned: boolean } {
  const across = Math.max(Math.hypot(topRight[0] - topLeft[0], topRight[1] - topLeft[1]), Math.hypot(bottomRight[0] - bottomLeft[0], bottomRight[1] - bottomLeft[1]));
  const down = Math.max(Math.hypot(bottomLeft[0] - topLeft[0], bottomLeft[1] - topLeft[1]), Math.hypot(bottomRight[0] - topRight[0], bottomRight[1] - topRight[1]));
  const width = Math.max(1, Math.trunc(across));
  const height = Math.max(1, Math.trunc(down));
  return { width, height, turned: height / width >= 1.5 };
}

/**
 * The page as the server can know it from its regions: a frame of the original size in the paper's
 * colour (the median of the crops' top and bottom rows) with each crop put back where it was cut
 * (at its quad's top-left, turned back when `cropQuad` turned it, at the size it had in the frame
 * when the device sent it smaller). The gate judges it, a person reviewing sees it, and the lines'
 * boxes fall on it as on the page.
 */
export function rebuildPage(regions: TextRegions): Frame {
  const { width, height } = regions.frame;
  const paper = paperColour(regions.crops);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) data.set(paper, i);
  regions.crops.forEach((crop, index) => {
    const quad = regions.quads[index];
    const size = cutSize(quad);
    const turnedBack = size.turned ? rotateFrame(crop, 90) : crop;
    const upright = turnedBack.width === size.width && turnedBack.height === size.height ? turnedBack : resizeWith(turnedBack, size.width, size.height);
    const left = Math.floor(Math.min(...quad.map(([x]) => x)));
    const top = Math.floor(Math.min(...quad.map(([, y]) => y)));
    const columns = Math.min(upright.width, width - left);
    const rows = Math.min(upright.height, height - top);
    for (let y = 0; y < rows; y++) {
      for (let x = 0; x < columns; x++) {
        const from = (y * upright.width + x) * upright.channels;
        const to = ((top + y) * width + left + x) * 3;
        data[to] = upright.data[from];
        data[to + 1] = upright.data[from + 1];
        data[to + 2] = upright.data[from + 2];
      }
    }
  });
  return { width, height, channels: 3, data };
}

/** The per-channel median of the crops' top and bottom rows: the paper around the text. White without crops. */
function paperColour(crops: Frame[]): [number, number, number] {
  const histograms = [new Uint32Array(256), new Uint32Array(256), new Uint32Array(256)];
  let count = 0;
  for (const crop of crops) {
    for (const row of new Set([0, crop.height - 1])) {
      for (let x = 0; x < crop.width; x++) {
        const at = (row * crop.width + x) * crop.channels;
        for (let c = 0; c < 3; c++) histograms[c][crop.data[at + c]]++;
        count++;
      }
    }
  }
  if (count === 0) return [255, 255, 255];
  return histograms.map((histogram) => {
    let seen = 0;
    for (let value = 0; value < 256; value++) {
      seen += histogram[value];
      if (seen * 2 >= count) return value;
    }
    return 255;
  }) as [number, number, number];
}
