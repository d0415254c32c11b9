import sharp from 'sharp';
import { CROP_FIELD, cutRegions, findTextRegions, REGIONS_FIELD, type DetectorRun, type RegionsManifest } from '../core/edge/regions.js';
import type { Frame } from '../core/frame.js';
import type { Quad } from '../core/postprocess/geometry.js';
import type { LineReading } from '../core/postprocess/recognition.js';
import { builtinManifests } from '../runtime/builtin.js';
import type { RuntimeConfig } from '../runtime/config.js';
import { createOnnxSession } from '../runtime/onnx-node.js';

/** JPEG quality of each crop: the agent's downscaled page's (the capture page encodes both at 0.9). */
const CROP_QUALITY = 85;

/** The built-in text detector on onnxruntime-node, as the device runs it (the capture page runs the same weights in onnxruntime-web). */
export interface NodeTextDetector {
  /** The frame's text lines at the device's detection size, in the frame's coordinates. */
  find(frame: Frame): Promise<Quad[]>;
  close(): Promise<void>;
}

export async function loadNodeTextDetector(runtime: RuntimeConfig): Promise<NodeTextDetector> {
  const { detection } = await builtinManifests();
  const session = await createOnnxSession(detection, runtime);
  const input = detection.inputs[0].name;
  const output = detection.outputs[0].name;
  const detect: DetectorRun = async (tensor) => (await session.run({ [input]: tensor }))[output].data;
  return { find: (frame) => findTextRegions(frame, detect), close: () => session.close() };
}

/** A regions upload's multipart body (`POST /v1/predict/regions`) and its Content-Type. */
export interface RegionsPayload {
  body: Uint8Array;
  contentType: string;
  crops: number;
}

/**
 * The regions of a frame as a device sends them: each quad cut from the frame at full resolution
 * (`cutRegions`), encoded as JPEG without metadata, with the manifest, in one multipart body. The
 * boundary is derived from `key` so the same capture always makes the same bytes. `readings`: the
 * device's reading of each region (policy `device`), sent with it.
 */
export async function regionsPayload(frame: Frame, quads: Quad[], key: string, readings?: LineReading[]): Promise<RegionsPayload> {
  const crops = await Promise.all(
    cutRegions(frame, quads).map((crop) =>
      sharp(Buffer.from(crop.data.buffer, crop.data.byteOffset, crop.data.byteLength), { raw: { width: crop.width, height: crop.height, channels: crop.channels } })
        .jpeg({ quality: CROP_QUALITY })
        .toBuffer(),
    ),
  );
  const manifest: RegionsManifest = { frame: { width: frame.width, height: frame.height }, regions: quads.map((quad, i) => (readings === undefined ? { quad } : { quad, reading: readings[i] })) };
  const boundary = `visionops-${key.replace(/[^\w-]/g, '').slice(-48)}`;
  const chunks: Buffer[] = [part(boundary, `name="${REGIONS_FIELD}"`, 'application/json'), Buffer.from(JSON.stringify(manifest)), Buffer.from('\r\n')];
  crops.forEach((crop, i) => chunks.push(part(boundary, `name="${CROP_FIELD}"; filename="crop-${i}.jpg"`, 'image/jpeg'), crop, Buffer.from('\r\n')));
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  const body = Buffer.concat(chunks);
  return { body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength), contentType: `multipart/form-data; boundary=${boundary}`, crops: crops.length };
}

function part(boundary: string, disposition: string, type: string): Buffer {
  return Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; ${disposition}\r\nContent-Type: ${type}\r\n\r\n`);
}
