import type { Frame } from '../frame.js';

/** The per-channel median of the frame's outermost pixels: the background around a text line crop. */
export function edgeMedian(frame: Frame): number[] {
  const { width, height, channels, data } = frame;
  const histograms = Array.from({ length: channels }, () => new Uint32Array(256));
  const count = (x: number, y: number) => {
    const offset = (y * width + x) * channels;
    for (let c = 0; c < channels; c++) histograms[c][data[offset + c]]++;
  };
  for (let x = 0; x < width; x++) {
    count(x, 0);
    if (height > 1) count(x, height - 1);
  }
  for (let y = 1; y < height - 1; y++) {
    count(0, y);
    if (width > 1) count(width - 1, y);
  }
  return histograms.map((histogram) => {
    const total = histogram.reduce((sum, n) => sum + n, 0);
    let seen = 0;
    for (let v = 0; v < 256; v++) {
      seen += histogram[v];
      if (seen * 2 >= total) return v;
    }
    return 255;
  });
}

/**
 * The frame inside a border `top` pixels high above and below and `side` pixels wide left and
 * right, filled with the median colour of the frame's edge. A flat fill rather than the page
 * around the crop: on tightly set text, the page around a line holds the neighbouring lines'
 * ascenders and descenders, which the recogniser reads as noise.
 */
export function addMargin(frame: Frame, top: number, side: number): Frame {
  if (top === 0 && side === 0) return frame;
  const { width, height, channels, data } = frame;
  const outWidth = width + 2 * side;
  const outHeight = height + 2 * top;
  const out = new Uint8Array(outWidth * outHeight * channels);
  const fill = edgeMedian(frame);
  for (let p = 0; p < out.length; p += channels) {
    for (let c = 0; c < channels; c++) out[p + c] = fill[c];
  }
  const row = width * channels;
  for (let y = 0; y < height; y++) {
    out.set(data.subarray(y * row, (y + 1) * row), ((y + top) * outWidth + side) * channels);
  }
  return { width: outWidth, height: outHeight, channels, data: out };
}
