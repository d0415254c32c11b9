import { deflateSync } from 'node:zlib';
import type { ImageFormat } from '../../src/image/types.js';
import { dimensionFields, fixPngCrcs, readField, unitsOf, writeField, type Unit } from './layout.js';

export type Random = () => number;

/** The kinds of damage done to a seed; each input gets one to three of them. */
export const MUTATIONS = ['flip', 'set', 'truncate', 'length', 'dimensions', 'metadata', 'splice', 'insert'] as const;
export type Mutation = (typeof MUTATIONS)[number];

/** Values decoders get wrong most: zero, one, the largest of each width, off-by-one and the sign bit. */
const INTERESTING = [0, 1, 2, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];
/** Declared sizes around the limits (40 MP, JPEG's 65535, the 6000 x 6000 of the hostile probe). */
const DIMENSIONS = [0, 1, 2, 63, 6000, 6325, 8192, 16383, 16384, 30000, 65500, 65535, 65536, 1 << 24, 0x7fffffff, 0xffffffff];

export function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

function below(random: Random, n: number): number {
  return Math.floor(random() * n);
}

/** Applies one named mutation to a copy of `bytes`. */
export function mutate(bytes: Uint8Array, format: ImageFormat, mutation: Mutation, random: Random): Uint8Array {
  const out = Uint8Array.from(bytes);
  switch (mutation) {
    case 'flip': {
      // Mostly in the first kilobytes, where the headers are.
      const span = random() < 0.6 ? Math.min(out.length, 2048) : out.length;
      for (let i = 1 + below(random, 16); i > 0; i--) out[below(random, span)] ^= 1 << below(random, 8);
      return out;
    }
    case 'set': {
      for (let i = 1 + below(random, 4); i > 0; i--) out[below(random, out.length)] = pick(random, INTERESTING) & 0xff;
      return out;
    }
    case 'truncate':
      return out.subarray(0, Math.max(1, random() < 0.5 ? below(random, Math.min(out.length, 1024)) : below(random, out.length)));
    case 'length':
      return withLengthEdited(out, format, random);
    case 'dimensions':
      return withDimensions(out, format, random);
    case 'metadata':
      return withMetadataSegment(out, format, random);
    case 'splice':
      return withUnitSpliced(out, format, random);
    case 'insert': {
      const at = below(random, out.length);
      const noise = Uint8Array.from({ length: 1 + below(random, 64) }, () => below(random, 256));
      return concat(out.subarray(0, at), noise, out.subarray(at));
    }
  }
}

function withLengthEdited(bytes: Uint8Array, format: ImageFormat, random: Random): Uint8Array {
  const units = unitsOf(bytes, format);
  if (units.length === 0) return bytes;
  const { length } = pick(random, units);
  const current = readField(bytes, length);
  const value = random() < 0.5 ? pick(random, INTERESTING) : current + pick(random, [-2, -1, 1, 2, 16, -16, 1024]);
  writeField(bytes, length, value);
  if (format === 'png' && random() < 0.7) fixPngCrcs(bytes);
  return bytes;
}

function withDimensions(bytes: Uint8Array, format: ImageFormat, random: Random): Uint8Array {
  const fields = dimensionFields(bytes, format);
  if (fields.length === 0) return bytes;
  // Usually every size field at once, so the header stays consistent and the decoder believes it.
  const chosen = random() < 0.7 ? fields : [pick(random, fields)];
  const value = pick(random, DIMENSIONS);
  for (const field of chosen) writeField(bytes, field, random() < 0.8 ? value : pick(random, DIMENSIONS));
  if (format === 'png' && random() < 0.9) fixPngCrcs(bytes);
  return bytes;
}

/** An EXIF, ICC or XMP payload: well-formed, damaged, or built to loop or overflow a parser. */
function metadataPayload(kind: 'exif' | 'icc' | 'xmp', random: Random): Uint8Array {
  const noise = (n: number) => Uint8Array.from({ length: n }, () => below(random, 256));
  if (kind === 'xmp') {
    const depth = below(random, 2000);
    const text = random() < 0.5 ? `<x:xmpmeta xmlns:x="adobe:ns:meta/">${'<a>'.repeat(depth)}` : `<?xpacket ${'&amp;'.repeat(depth)}`;
    return new TextEncoder().encode(text);
  }
  if (kind === 'icc') {
    const header = new Uint8Array(132);
    const view = new DataView(header.buffer);
    view.setUint32(0, pick(random, [132, 0, 0xffffffff, 128 + below(random, 4096)]));
    header.set([0x61, 0x63, 0x73, 0x70], 36); // 'acsp'
    view.setUint32(128, pick(random, [0, 1, 0xffff, 0xffffffff, below(random, 64)]));
    return concat(header, noise(below(random, 512)));
  }
  // A TIFF header whose first IFD may point at itself, overflow its count, or hold noise.
  const tiff = new Uint8Array(8 + 2 + 12 * 4 + 4);
  const view = new DataView(tiff.buffer);
  tiff.set([0x4d, 0x4d, 0x00, 0x2a]);
  view.setUint32(4, pick(random, [8, 0, 0xffffffff, 8 + below(random, 64)]));
  view.setUint16(8, pick(random, [4, 0, 0xffff, below(random, 300)]));
  for (let i = 0; i < 4; i++) {
    const entry = 10 + i * 12;
    view.setUint16(entry, pick(random, [0x010f, 0x0110, 0x8769, 0x8825, 0x0112, 0x9003, below(random, 0xffff)]));
    view.setUint16(entry + 2, 1 + below(random, 13));
    view.setUint32(entry + 4, pick(random, [1, 4, 0xffffffff, 0x10000000, below(random, 100)]));
    view.setUint32(entry + 8, pick(random, [8, 0, 0xfffffff0, below(random, tiff.length)]));
  }
  view.setUint32(tiff.length - 4, pick(random, [0, 8, 0xffffffff]));
  return concat(new TextEncoder().encode('Exif\0\0'), tiff, noise(below(random, 64)));
}

function withMetadataSegment(bytes: Uint8Array, format: ImageFormat, random: Random): Uint8Array {
  const kind = pick(random, ['exif', 'icc', 'xmp'] as const);
  const payload = metadataPayload(kind, random);
  if (format === 'jpeg') {
    const body =
      kind === 'icc'
        ? concat(new TextEncoder().encode('ICC_PROFILE\0'), Uint8Array.from([1 + below(random, 3), 1 + below(random, 3)]), payload)
        : kind === 'xmp'
          ? concat(new TextEncoder().encode('http://ns.adobe.com/xap/1.0/\0'), payload)
          : payload;
    const clipped = body.subarray(0, 65533);
    const marker = Uint8Array.from([0xff, kind === 'icc' ? 0xe2 : 0xe1, (clipped.length + 2) >> 8, (clipped.length + 2) & 0xff]);
    return concat(bytes.subarray(0, 2), marker, clipped, bytes.subarray(2));
  }
  if (format === 'png') {
    const type = kind === 'exif' ? 'eXIf' : kind === 'icc' ? 'iCCP' : 'iTXt';
    const data =
      kind === 'exif'
        ? payload.subarray(6)
        : kind === 'icc'
          ? concat(new TextEncoder().encode('icc\0\0'), random() < 0.7 ? deflateSync(payload) : payload)
          : concat(new TextEncoder().encode('XML:com.adobe.xmp\0\0\0\0\0'), payload);
    const chunk = new Uint8Array(12 + data.length);
    writeField(chunk, { at: 0, size: 4, littleEndian: false }, data.length);
    chunk.set(new TextEncoder().encode(type), 4);
    chunk.set(data, 8);
    const out = concat(bytes.subarray(0, 33), chunk, bytes.subarray(33));
    fixPngCrcs(out);
    return out;
  }
  if (format === 'webp') {
    const type = kind === 'exif' ? 'EXIF' : kind === 'icc' ? 'ICCP' : 'XMP ';
    const chunk = new Uint8Array(8 + payload.length + (payload.length % 2));
    chunk.set(new TextEncoder().encode(type));
    writeField(chunk, { at: 4, size: 4, littleEndian: true }, payload.length);
    chunk.set(payload, 8);
    const out = concat(bytes, chunk);
    writeField(out, { at: 4, size: 4, littleEndian: true }, out.length - 8);
    // Declares the metadata in VP8X's flags when there is one, so the demuxer reads it.
    if (String.fromCharCode(...out.subarray(12, 16)) === 'VP8X') out[20] |= kind === 'exif' ? 0x08 : kind === 'icc' ? 0x20 : 0x04;
    return out;
  }
  // TIFF, AVIF and GIF keep metadata inside structures the other mutations reach; here the
  // payload lands inside a unit (an IFD value, a box, a sub-block) or at the end.
  const units = unitsOf(bytes, format);
  const at = units.length > 0 && random() < 0.7 ? Math.min(bytes.length, pick(random, units).end) : bytes.length;
  return concat(bytes.subarray(0, at), payload, bytes.subarray(at));
}

function withUnitSpliced(bytes: Uint8Array, format: ImageFormat, random: Random): Uint8Array {
  const units = unitsOf(bytes, format).filter((unit) => unit.end <= bytes.length && unit.end > unit.start);
  if (units.length === 0) return bytes;
  const unit: Unit = pick(random, units);
  const piece = bytes.subarray(unit.start, unit.end);
  const choice = below(random, 3);
  if (choice === 0) return concat(bytes.subarray(0, unit.start), bytes.subarray(unit.end));
  if (choice === 1) return concat(bytes.subarray(0, unit.end), piece, bytes.subarray(unit.end));
  const other = pick(random, units);
  return concat(bytes.subarray(0, other.start), piece, bytes.subarray(other.start));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
