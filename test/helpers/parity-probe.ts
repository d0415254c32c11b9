import * as core from '../../src/core/device.js';

/**
 * What the parity test compares, computed by the same code in Node (imported) and in Chromium
 * (bundled with the core): the gate's whole report, the SHA-256 of each built-in model's input
 * tensor (`specs`, passed in: the built-in specs live beside Node code), the preprocessing hashes
 * and the perceptual hash of one decoded frame.
 */
export interface ProbeAnswer {
  report: core.QualityReport;
  tensors: Record<string, { dims: number[]; sha256: string }>;
  specHashes: Record<string, string>;
  phash: string;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function probe(frame: core.Frame, specs: Record<string, core.PreprocessSpec>): Promise<ProbeAnswer> {
  const report = core.runQualityGate(frame, core.qualityConfigSchema.parse({}));
  const tensors: ProbeAnswer['tensors'] = {};
  const specHashes: ProbeAnswer['specHashes'] = {};
  for (const [name, spec] of Object.entries(specs)) {
    const tensor = core.toTensor(frame, spec);
    tensors[name] = { dims: tensor.dims, sha256: await sha256(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength)) };
    specHashes[name] = await core.preprocessHash(spec);
  }
  return { report, tensors, specHashes, phash: core.perceptualHash(core.toGray(frame)) };
}

/** A frame from base64 RGBA, as a page receives it from the test. */
export function probeBase64(width: number, height: number, rgba: string, specs: Record<string, core.PreprocessSpec>): Promise<ProbeAnswer> {
  const binary = atob(rgba);
  const data = new Uint8ClampedArray(binary.length);
  for (let i = 0; i < binary.length; i++) data[i] = binary.charCodeAt(i);
  return probe({ width, height, channels: 4, data }, specs);
}
