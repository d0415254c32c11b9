import type { ImageFormat } from './types.js';

const JPEG = [0xff, 0xd8, 0xff];
const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const TIFF = [
  [0x49, 0x49, 0x2a, 0x00],
  [0x4d, 0x4d, 0x00, 0x2a],
  [0x49, 0x49, 0x2b, 0x00],
  [0x4d, 0x4d, 0x00, 0x2b],
];

/** ISO-BMFF brands (ISO/IEC 23008-12 and the AV1 Image File Format) naming an AV1 still or sequence. */
const AVIF_BRANDS = new Set(['avif', 'avis']);
/** HEVC stills and sequences. */
const HEVC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);
/** Any HEIF image or sequence, whatever its codec. */
const GENERIC_BRANDS = new Set(['mif1', 'msf1']);

/**
 * The format named by the file's magic bytes, or null. Names and Content-Type headers are never
 * consulted: they are whatever the sender says, the bytes are what the decoder will see.
 */
export function sniffFormat(bytes: Uint8Array): ImageFormat | null {
  if (startsWith(bytes, JPEG)) return 'jpeg';
  if (startsWith(bytes, PNG)) return 'png';
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return 'gif';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'webp';
  if (TIFF.some((magic) => startsWith(bytes, magic))) return 'tiff';
  if (ascii(bytes, 4, 4) === 'ftyp') return isoBmffFormat(bytes);
  return null;
}

/**
 * AVIF and HEIC share one container; its `ftyp` box tells them apart. A codec-specific major brand
 * decides; otherwise the compatible brands do, AV1 first, since an AVIF lists mif1 too. Other
 * ISO-BMFF files (MP4 video, say) are not images.
 */
function isoBmffFormat(bytes: Uint8Array): ImageFormat | null {
  const boxEnd = Math.min(bytes.length, readUint32(bytes, 0));
  const major = ascii(bytes, 8, 4);
  if (AVIF_BRANDS.has(major)) return 'avif';
  if (HEVC_BRANDS.has(major)) return 'heif';
  const brands = [major];
  for (let offset = 16; offset + 4 <= boxEnd; offset += 4) brands.push(ascii(bytes, offset, 4));
  if (brands.some((brand) => AVIF_BRANDS.has(brand))) return 'avif';
  if (brands.some((brand) => HEVC_BRANDS.has(brand) || GENERIC_BRANDS.has(brand))) return 'heif';
  return null;
}

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return bytes.length >= magic.length && magic.every((value, i) => bytes[i] === value);
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  if (bytes.length < offset + length) return '';
  return String.fromCharCode(...bytes.subarray(offset, offset + length));
}

function readUint32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}
