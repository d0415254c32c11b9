import sharp from 'sharp';
import { readLinesOnDevice, type DeviceLines } from '../core/edge/device-reading.js';
import { CROP_FIELD, cutRegions, findTextRegions, REGIONS_FIELD, type DetectorRun, type RegionsManifest } from '../core/edge/regions.js';
import type { DeviceModel, DeviceReadingSettings } from '../core/edge/route.js';
import type { Frame } from '../core/frame.js';
import type { Quad } from '../core/postprocess/geometry.js';
import type { LineReader, LineReading } from '../core/postprocess/recognition.js';
import { rotateFrame } from '../core/preprocess/rotate.js';
import { toTensor } from '../core/preprocess/tensor.js';
import { spellingOf } from '../pipeline/lexicon.js';
import { pageUpsideDown } from '../pipeline/orientation.js';
import { builtinManifests, deviceModels } from '../runtime/builtin.js';
import type { RuntimeConfig } from '../runtime/config.js';
import type { ModelManifest } from '../runtime/manifest.js';
import { createOnnxSession } from '../runtime/onnx-node.js';
import type { ModelSession, TensorData } from '../runtime/session.js';

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
  return { find: detectorOf(session), close: () => session.close() };
}

/** The device's detection (`findTextRegions`) with the built-in detector's session. */
function detectorOf(session: ModelSession): (frame: Frame) => Promise<Quad[]> {
  const run = runner(session);
  const detect: DetectorRun = async (tensor) => (await run(tensor)).data;
  return (frame) => findTextRegions(frame, detect);
}

/** The built-in detector, 0/180 classifier and recogniser on onnxruntime-node, reading a frame as the capture page does under `device`. */
export interface NodeTextReader {
  /** The frame upright (turned over when its text reads upside down), its lines in reading order, and what was read of them. */
  read(frame: Frame): Promise<DeviceLines & { frame: Frame; boxes: Quad[] }>;
  /** The models it reads with, as the server names them (the route's `models`). */
  models: DeviceModel[];
  close(): Promise<void>;
}

/** A session's first output for one input tensor. */
function runner(session: ModelSession): (tensor: TensorData) => Promise<TensorData> {
  const { inputs, outputs } = session.manifest;
  return async (tensor) => (await session.run({ [inputs[0].name]: tensor }))[outputs[0].name];
}

/**
 * The reader of policy `device` for the Node agent: the lines found at the device's detection size,
 * the page turned over when the 0/180 vote says so (`pageUpsideDown`, the pipeline's thresholds),
 * and each line read and spelled as the server reads it (`readLinesOnDevice`, the pipeline's
 * recognition settings), so the cloud can record the reading without recognising again.
 */
export async function loadNodeTextReader(runtime: RuntimeConfig, settings: DeviceReadingSettings): Promise<NodeTextReader> {
  const manifests = await builtinManifests();
  const { spaceBoost, bucketWidth, dropScore } = settings.recognition;
  const spelling = await spellingOf(settings.recognition.spelling);
  const roles: ModelManifest[] = [manifests.detection, manifests.orientation, manifests.recognition];
  const sessions: ModelSession[] = [];
  try {
    for (const manifest of roles) sessions.push(await createOnnxSession(manifest, runtime));
  } catch (error) {
    await Promise.all(sessions.map((session) => session.close()));
    throw error;
  }
  const find = detectorOf(sessions[0]);
  const [classify, recognise] = sessions.slice(1).map(runner);
  const { postprocess, preprocess, labels } = manifests.recognition;
  const options = postprocess.kind === 'ctc' ? postprocess : {};
  const reader: LineReader = {
    spec: preprocess,
    alphabet: labels ?? [],
    options: spaceBoost === null ? options : { ...options, spaceBoost },
    bucketWidth,
    spelling,
  };
  return {
    models: await deviceModels(),
    async read(frame) {
      let upright = frame;
      let boxes = await find(frame);
      if (boxes.length > 0 && (await pageUpsideDown(frame, boxes, async (crop) => (await classify(toTensor(crop, manifests.orientation.preprocess))).data, settings.orientation))) {
        upright = rotateFrame(frame, 180);
        boxes = await find(upright);
      }
      return { frame: upright, boxes, ...(await readLinesOnDevice(upright, boxes, recognise, reader, dropScore)) };
    },
    close: async () => void (await Promise.all(sessions.map((session) => session.close()))),
  };
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
