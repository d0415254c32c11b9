/**
 * A decoded image as the core sees it: interleaved 8-bit samples, row-major, top row first.
 * Ingest on the server produces RGB (3 channels); a browser canvas hands over RGBA (4), and
 * every core function accepts both.
 */
export interface Frame {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Uint8Array | Uint8ClampedArray;
}

/** A single-channel image, values 0..255 as floats or bytes. */
export interface GrayFrame {
  width: number;
  height: number;
  data: Uint8Array | Float32Array;
}

/** Each channel's share of BT.601 luma per level, in 16-bit fixed point; green carries the rounding half. */
const RED_SHARE = levelTable(19595, 0);
const GREEN_SHARE = levelTable(38470, 32768);
const BLUE_SHARE = levelTable(7471, 0);

function levelTable(weight: number, offset: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let v = 0; v < 256; v++) table[v] = v * weight + offset;
  return table;
}

/**
 * ITU-R BT.601 luma, the weights OpenCV's cvtColor uses, so scores match common tooling.
 * Fixed point in 16 bits (0.299, 0.587, 0.114 times 65536), looked up per level rather than
 * multiplied: the one pass every image pays for, so it is kept to three loads and two adds.
 */
export function toGray(frame: Frame): GrayFrame {
  const { width, height, channels, data } = frame;
  const out = new Uint8Array(width * height);
  for (let i = 0, p = 0; i < out.length; i++, p += channels) {
    out[i] = (RED_SHARE[data[p]] + GREEN_SHARE[data[p + 1]] + BLUE_SHARE[data[p + 2]]) >>> 16;
  }
  return { width, height, data: out };
}
