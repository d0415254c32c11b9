/** The capture page's reading on the device, bundled for scripts/measure-device-reading.ts (as orientation-probe.ts is for the orientation test): the model worker's detector and recogniser, and the upload the page queues. */
import { loadDeviceReader, type ModelUrls } from '../../web/capture/device-models.js';
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
}

export async function readFrames(urls: Pick<ModelUrls, 'detection' | 'recognition' | 'wasm'>, alphabet: string[], lexicon: string, frames: Pixels[]): Promise<{ loadMs: number; reads: FrameRead[] }> {
  const started = performance.now();
  const read = await loadDeviceReader(urls, alphabet, lexicon);
  const loadMs = performance.now() - started;
  const reads: FrameRead[] = [];
  for (const pixels of frames) {
    const frame = { width: pixels.width, height: pixels.height, channels: 4 as const, data: Uint8ClampedArray.from(atob(pixels.rgba), (c) => c.charCodeAt(0)) };
    const reading = await read(frame);
    const upload = await readRegionsUpload(frame, reading);
    const bytes = new Uint8Array(await upload.arrayBuffer());
    let binary = '';
    for (const byte of bytes) binary += String.fromCharCode(byte);
    reads.push({ ms: reading.ms, rows: reading.rows, lines: reading.boxes.length, body: btoa(binary), contentType: upload.type, bytes: bytes.length });
  }
  return { loadMs, reads };
}
