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

/**
 * ITU-R BT.601 luma, the weights OpenCV's cvtColor uses, so scores match common tooling.
 * Fixed point in 16 bits (0.299, 0.587, 0.114 times 65536) keeps it to integer operations.
 */
export function toGray(frame: Frame): GrayFrame {
  const { width, height, channels, data } = frame;
  const out = new Uint8Array(width * height);
  for (let i = 0, p = 0; i < out.length; i++, p += channels) {
    out[i] = (data[p] * 19595 + data[p + 1] * 38470 + data[p + 2] * 7471 + 32768) >>> 16;
  }
  return { width, height, data: out };
}
