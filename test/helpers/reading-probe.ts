/** The capture page's reading on the device, bundled for scripts/measure-device-reading.ts (as orientation-probe.ts is for the orientation test): the model worker's detector and recogniser, and the upload the page queues. */
import type { DeviceReadingSettings } from '../../src/core/device.js';
import { loadDeviceModels, type ModelUrls, type RecogniserSetup } from '../../web/capture/device-models.js';
import { readRegionsUpload } from '../../web/capture/regions.js';

/** Base64 RGBA pixels, as the page receives them from the script. */
export interface Pixels {
  width: number;
  height: number;
  rgba: string;
}

export interface FrameRead {
  /** The worker's detection, cutting and recognition of the frame. */
  ms: number;
  rows: string[];
  lines: number;
  /** The multipart body the page queues (crops and reading), base64, and its type. */
  body: string;
  contentType: string;
  bytes: number;
  /** Which onnxruntime-web build ran the models. */
  backend: string;
}

export async function readFrames(urls: ModelUrls, settings: DeviceReadingSettings, recogniser: RecogniserSetup, frames: Pixels[]): Promise<{ loadMs: number; reads: FrameRead[] }> {
  const started = performance.now();
  const examine = await loadDeviceModels(urls, settings, { orientation: false, recogniser });
  const loadMs = performance.now() - started;
  const reads: FrameRead[] = [];
  for (const pixels of frames) {
    const frame = { width: pixels.width, height: pixels.height, channels: 4 as const, data: Uint8ClampedArray.from(atob(pixels.rgba), (c) => c.charCodeAt(0)) };
    const { boxes, reading, ms, backend } = await examine(frame, true);
    if (reading === null) throw new Error('the recogniser did not read the frame');
    const upload = await readRegionsUpload(frame, boxes, reading);
    const bytes = new Uint8Array(await upload.arrayBuffer());
    let binary = '';
    for (const byte of bytes) binary += String.fromCharCode(byte);
    reads.push({ ms, rows: reading.rows, lines: boxes.length, body: btoa(binary), contentType: upload.type, bytes: bytes.length, backend });
  }
  return { loadMs, reads };
}
