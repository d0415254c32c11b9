import type { Frame } from '../frame.js';
import { roundHalfEven } from '../rounding.js';

/**
 * Where a frame landed in the tensor: tensor x = frame x * scaleX + offsetX (and so for y), in
 * pixels with the origin at the top-left corner. A letterbox has one scale and a positive offset
 * (its padding); a centre crop a negative offset. Model outputs in tensor pixels map back with it.
 */
export interface Placement {
  scaleX: number;
  scaleY: number;
  offsetX: number;
  offsetY: number;
}

export interface Letterbox {
  /** The scaled image's size inside the box. */
  width: number;
  height: number;
  /** Ultralytics' ratio: the gain its scale_boxes divides boxes by. */
  ratio: number;
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/**
 * Ultralytics' LetterBox arithmetic (auto=False, center=True): r = min(boxH / h, boxW / w),
 * capped at 1 without `scaleUp`; the unpadded size rounded half to even (Python's round); the
 * padding halved and split with round(d - 0.1) before and round(d + 0.1) after, so an odd pixel
 * goes below and right.
 */
export function letterbox(width: number, height: number, boxWidth: number, boxHeight: number, scaleUp = true): Letterbox {
  let ratio = Math.min(boxHeight / height, boxWidth / width);
  if (!scaleUp) ratio = Math.min(ratio, 1);
  const scaledWidth = roundHalfEven(width * ratio);
  const scaledHeight = roundHalfEven(height * ratio);
  const padX = (boxWidth - scaledWidth) / 2;
  const padY = (boxHeight - scaledHeight) / 2;
  return {
    width: scaledWidth,
    height: scaledHeight,
    ratio,
    left: roundHalfEven(padX - 0.1),
    top: roundHalfEven(padY - 0.1),
    right: roundHalfEven(padX + 0.1),
    bottom: roundHalfEven(padY + 0.1),
  };
}

/** torchvision's Resize(size) with an int: the shorter side to `size`, the longer one truncated. */
export function shorterSideSize(width: number, height: number, size: number): { width: number; height: number } {
  return width <= height
    ? { width: size, height: Math.trunc((size * height) / width) }
    : { width: Math.trunc((size * width) / height), height: size };
}

/** torchvision's CenterCrop offsets: int(round((side - crop) / 2.0)), negative when the crop is larger. */
export function centreCropOffset(width: number, height: number, cropWidth: number, cropHeight: number): { left: number; top: number } {
  return { left: roundHalfEven((width - cropWidth) / 2), top: roundHalfEven((height - cropHeight) / 2) };
}

/**
 * A width x height canvas filled with `fill` (a byte per channel) with the frame's pixel (0, 0) at
 * (left, top); parts of the frame outside the canvas are cut. Letterboxing is a positive offset
 * (cv2.copyMakeBorder), centre cropping a negative one (torchvision pads with 0 when the crop is
 * larger than the image).
 */
export function placeOnCanvas(frame: Frame, width: number, height: number, left: number, top: number, fill: number): Frame {
  const { channels, data } = frame;
  const out = new Uint8Array(width * height * channels);
  if (fill !== 0) out.fill(fill);
  const fromX = Math.max(0, -left);
  const toX = Math.min(frame.width, width - left);
  if (toX > fromX) {
    for (let y = Math.max(0, -top); y < Math.min(frame.height, height - top); y++) {
      const row = y * frame.width * channels;
      out.set(data.subarray(row + fromX * channels, row + toX * channels), ((y + top) * width + left + fromX) * channels);
    }
  }
  return { width, height, channels, data: out };
}
