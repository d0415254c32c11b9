import type { Frame, GrayFrame } from '../core/frame.js';

/** The formats ingest accepts, each recognised from its magic bytes (see sniff.ts). */
export const IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'tiff', 'gif', 'avif', 'heif'] as const;

export type ImageFormat = (typeof IMAGE_FORMATS)[number];

export interface ImageMetadata {
  /** Capture fields (Make, Model, DateTimeOriginal, ExposureTime, FNumber, ISO, FocalLength, Orientation, Software...); GPS* only when `ingest.keepGps`. */
  exif: Record<string, string | number>;
  hasIcc: boolean;
  /** Dots per inch, when the file states it. */
  density: number | null;
  /** Metadata sent with the request (device id, capture time...), passed through untouched. */
  source: Record<string, unknown>;
}

export interface IngestedImage {
  /** RGB, EXIF orientation applied: upright as the camera meant it; smaller than `width` x `height` when `reduced`. */
  frame: Frame;
  /** Decoded at a reduced size for the gate alone (`ingestImage(..., reduceTo)`): `frame` and `luma` are smaller than the image. */
  reduced: boolean;
  format: ImageFormat;
  /** Size of the uploaded file. */
  bytes: number;
  /** Of the image once upright (of `frame` too unless `reduced`). */
  width: number;
  height: number;
  /** 1..8 as found in the file, 1 when absent. */
  exifOrientation: number;
  metadata: ImageMetadata;
  /** Hex SHA-256 of the uploaded bytes: the exact identity of the file. */
  sha256: string;
  /** 16 hex chars, 64-bit perceptual hash of the pixels (of the reduced frame when `reduced`: within 2 bits of the full decode's on pages): near-duplicates differ in few bits. */
  phash: string;
  /** The frame's luma (BT.601), computed once for the hash, the gate and the monitor's descriptor. */
  luma: GrayFrame;
}

/** How messages name each format. */
export const FORMAT_NAMES: Record<ImageFormat, string> = {
  jpeg: 'JPEG',
  png: 'PNG',
  webp: 'WebP',
  tiff: 'TIFF',
  gif: 'GIF',
  avif: 'AVIF',
  heif: 'HEIF',
};
