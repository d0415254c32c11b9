import { CROP_FIELD, cutRegions, REGIONS_FIELD, type DeviceLines, type Frame, type LineReading, type Quad, type RegionsManifest } from '../../src/core/device.ts';

/** JPEG quality of each crop: the recogniser reads text at this quality as well as from the original. */
const CROP_QUALITY = 0.9;

/**
 * Under `hybrid`: the text regions of a captured frame instead of the page. The detector found
 * them (at its own reduced size: `loadDeviceModels`), each is cut from the frame at full resolution by the
 * core's `cropQuad` (so the recogniser gets every pixel of the text) and encoded as JPEG, and the
 * whole is one multipart body for `POST /v1/predict/regions`, kept as a Blob so the outbox can hold
 * it like a page. Null when the detector finds no text: then the page is sent, and the cloud says what it sees.
 */
export async function regionsUpload(frame: Frame, quads: Quad[]): Promise<Blob | null> {
  if (quads.length === 0) return null;
  return regionsBody(frame, quads, cutRegions(frame, quads));
}

/**
 * Under `device`: the lines the device read, each crop with its reading, for the cloud to record
 * (it recognises nothing again) and to keep as the reading's evidence. The frame is only the size
 * the quads are in.
 */
export function readRegionsUpload(frame: { width: number; height: number }, boxes: Quad[], { crops, readings }: DeviceLines): Promise<Blob> {
  return regionsBody(frame, boxes, crops, readings);
}

async function regionsBody(frame: { width: number; height: number }, quads: Quad[], crops: Frame[], readings?: LineReading[]): Promise<Blob> {
  const encoded = await Promise.all(crops.map(encodeCrop));
  const manifest: RegionsManifest = { frame: { width: frame.width, height: frame.height }, regions: quads.map((quad, i) => (readings === undefined ? { quad } : { quad, reading: readings[i] })) };
  return multipartBody([{ name: REGIONS_FIELD, type: 'application/json', body: JSON.stringify(manifest) }, ...encoded.map((crop, i) => ({ name: CROP_FIELD, filename: `crop-${i}.jpg`, type: 'image/jpeg', body: crop }))]);
}

/** One crop as JPEG; the page's frames come from a canvas, so crops are RGBA like them. */
function encodeCrop(crop: Frame): Promise<Blob> {
  const canvas = new OffscreenCanvas(crop.width, crop.height);
  canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(crop.data), crop.width, crop.height), 0, 0);
  return canvas.convertToBlob({ type: 'image/jpeg', quality: CROP_QUALITY });
}

interface Part {
  name: string;
  filename?: string;
  type: string;
  body: string | Blob;
}

/**
 * A multipart/form-data body as one Blob whose type carries its boundary: a FormData cannot be
 * kept in IndexedDB, and the boundary is lower case because a Blob's type is.
 */
function multipartBody(parts: Part[]): Blob {
  const boundary = `visionops-${crypto.randomUUID()}`;
  const chunks: (string | Blob)[] = [];
  for (const part of parts) {
    const filename = part.filename === undefined ? '' : `; filename="${part.filename}"`;
    chunks.push(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"${filename}\r\nContent-Type: ${part.type}\r\n\r\n`, part.body, '\r\n');
  }
  chunks.push(`--${boundary}--\r\n`);
  return new Blob(chunks, { type: `multipart/form-data; boundary=${boundary}` });
}
