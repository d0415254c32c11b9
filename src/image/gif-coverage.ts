/** The first frame of a GIF: its declared size and how many of its pixels its LZW data codes. */
export interface GifCoverage {
  /** The logical screen, which decoders paint in full: the frame sits inside it. */
  canvasWidth: number;
  canvasHeight: number;
  width: number;
  height: number;
  codedPixels: number;
}

const MAX_CODES = 4096;

/**
 * Walks the first frame's LZW codes keeping only each dictionary entry's length, not its pixels:
 * a few thousand steps for any GIF, and the exact number of pixels the data codes. A decoder
 * paints what the data does not reach with the background, so a 110-byte GIF can declare
 * 6000 x 6000 and be decoded to 108 MB of nothing. Null when the file ends before a frame, or its
 * code size is invalid (the decoder's own errors cover those).
 */
export function firstFrameCoverage(bytes: Uint8Array): GifCoverage | null {
  if (bytes.length < 13) return null;
  let at = 13 + colourTableBytes(bytes[10]);
  while (at < bytes.length) {
    const introducer = bytes[at];
    if (introducer === 0x21) {
      at = subBlocks(bytes, at + 2).end;
    } else if (introducer === 0x2c) {
      if (at + 11 > bytes.length) return null;
      const width = bytes[at + 5] | (bytes[at + 6] << 8);
      const height = bytes[at + 7] | (bytes[at + 8] << 8);
      const dataStart = at + 10 + colourTableBytes(bytes[at + 9]);
      if (dataStart >= bytes.length) return null;
      const minCodeSize = bytes[dataStart];
      if (minCodeSize < 1 || minCodeSize > 11) return null;
      const { data } = subBlocks(bytes, dataStart + 1);
      const canvasWidth = bytes[6] | (bytes[7] << 8);
      const canvasHeight = bytes[8] | (bytes[9] << 8);
      return { canvasWidth, canvasHeight, width, height, codedPixels: codedPixels(data, minCodeSize, width * height) };
    } else {
      return null;
    }
  }
  return null;
}

/** Pixels the codes stand for, up to `limit` (no need to count past the frame). */
function codedPixels(data: Uint8Array, minCodeSize: number, limit: number): number {
  const clear = 1 << minCodeSize;
  const end = clear + 1;
  const lengths = new Uint16Array(MAX_CODES);
  lengths.fill(1, 0, clear);
  let codeSize = minCodeSize + 1;
  let next = clear + 2;
  let previous = -1;
  let total = 0;
  let bit = 0;
  while (bit + codeSize <= data.length * 8 && total < limit) {
    const code = readCode(data, bit, codeSize);
    bit += codeSize;
    if (code === clear) {
      codeSize = minCodeSize + 1;
      next = clear + 2;
      previous = -1;
      continue;
    }
    if (code === end) break;
    let length: number;
    if (previous === -1) {
      if (code >= clear) break;
      length = 1;
    } else if (code < next) {
      length = lengths[code];
      if (next < MAX_CODES) lengths[next++] = lengths[previous] + 1;
    } else if (code === next && next < MAX_CODES) {
      length = lengths[previous] + 1;
      lengths[next++] = length;
    } else {
      break;
    }
    total += length;
    previous = code;
    if (next === 1 << codeSize && codeSize < 12) codeSize++;
  }
  return Math.min(total, limit);
}

/** GIF packs codes least significant bit first. */
function readCode(data: Uint8Array, bit: number, size: number): number {
  let code = 0;
  for (let i = 0; i < size; i++) {
    const at = bit + i;
    code |= ((data[at >> 3] >> (at & 7)) & 1) << i;
  }
  return code;
}

function colourTableBytes(packed: number): number {
  return packed & 0x80 ? 3 * 2 ** ((packed & 0x07) + 1) : 0;
}

/** GIF data comes in sub-blocks, each a length byte and that many bytes, ended by a zero length. */
function subBlocks(bytes: Uint8Array, from: number): { end: number; data: Uint8Array } {
  const parts: Uint8Array[] = [];
  let at = from;
  while (at < bytes.length && bytes[at] !== 0) {
    parts.push(bytes.subarray(at + 1, Math.min(at + 1 + bytes[at], bytes.length)));
    at += 1 + bytes[at];
  }
  const data = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    data.set(part, offset);
    offset += part.length;
  }
  return { end: at + 1, data };
}
