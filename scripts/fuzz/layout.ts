/**
 * Where each format keeps its length fields and its declared size, found by walking the real
 * structure of a (seed) file, so mutations hit the fields decoders trust instead of random bytes.
 */
import { crc32 } from 'node:zlib';
import type { ImageFormat } from '../../src/image/types.js';

export interface Field {
  at: number;
  size: 1 | 2 | 4;
  littleEndian: boolean;
}

/** A segment, chunk or box: its whole extent and its length field. */
export interface Unit {
  start: number;
  end: number;
  length: Field;
}

export function readField(bytes: Uint8Array, field: Field): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (field.at + field.size > bytes.length) return 0;
  if (field.size === 1) return view.getUint8(field.at);
  if (field.size === 2) return view.getUint16(field.at, field.littleEndian);
  return view.getUint32(field.at, field.littleEndian);
}

export function writeField(bytes: Uint8Array, field: Field, value: number): void {
  if (field.at + field.size > bytes.length) return;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const masked = field.size === 4 ? value >>> 0 : value & (field.size === 2 ? 0xffff : 0xff);
  if (field.size === 1) view.setUint8(field.at, masked);
  else if (field.size === 2) view.setUint16(field.at, masked, field.littleEndian);
  else view.setUint32(field.at, masked, field.littleEndian);
}

export function unitsOf(bytes: Uint8Array, format: ImageFormat): Unit[] {
  switch (format) {
    case 'jpeg':
      return jpegSegments(bytes);
    case 'png':
      return pngChunks(bytes);
    case 'webp':
      return riffChunks(bytes);
    case 'gif':
      return gifSubBlocks(bytes);
    case 'tiff':
      return tiffEntries(bytes);
    case 'avif':
    case 'heif':
      return bmffBoxes(bytes, 0, bytes.length);
  }
}

/** The fields holding the declared width and height (several places for some formats). */
export function dimensionFields(bytes: Uint8Array, format: ImageFormat): Field[] {
  const fields: Field[] = [];
  const units = unitsOf(bytes, format);
  if (format === 'jpeg') {
    for (const unit of units) {
      const marker = bytes[unit.start + 1];
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        fields.push({ at: unit.start + 5, size: 2, littleEndian: false }, { at: unit.start + 7, size: 2, littleEndian: false });
      }
    }
  } else if (format === 'png') {
    fields.push({ at: 16, size: 4, littleEndian: false }, { at: 20, size: 4, littleEndian: false });
  } else if (format === 'gif') {
    fields.push({ at: 6, size: 2, littleEndian: true }, { at: 8, size: 2, littleEndian: true });
    const descriptor = bytes.indexOf(0x2c, 13);
    if (descriptor > 0) fields.push({ at: descriptor + 5, size: 2, littleEndian: true }, { at: descriptor + 7, size: 2, littleEndian: true });
  } else if (format === 'webp') {
    for (const unit of units) {
      const type = ascii(bytes, unit.start, 4);
      if (type === 'VP8 ') fields.push({ at: unit.start + 14, size: 2, littleEndian: true }, { at: unit.start + 16, size: 2, littleEndian: true });
      if (type === 'VP8L') fields.push({ at: unit.start + 9, size: 4, littleEndian: true });
      if (type === 'VP8X' || type === 'ANIM' || type === 'ANMF') fields.push({ at: unit.start + 12, size: 4, littleEndian: true });
    }
  } else if (format === 'tiff') {
    for (const unit of units) {
      const tag = readField(bytes, { at: unit.start, size: 2, littleEndian: bytes[0] === 0x49 });
      // ImageWidth, ImageLength, RowsPerStrip, TileWidth, TileLength.
      if ([256, 257, 278, 322, 323].includes(tag)) fields.push({ at: unit.start + 8, size: 4, littleEndian: bytes[0] === 0x49 });
    }
  } else {
    for (const unit of units) {
      if (ascii(bytes, unit.start + 4, 4) === 'ispe') fields.push({ at: unit.start + 12, size: 4, littleEndian: false }, { at: unit.start + 16, size: 4, littleEndian: false });
    }
  }
  return fields;
}

/** PNG refuses a chunk whose CRC is wrong: mutations that mean to get past it fix it up. */
export function fixPngCrcs(bytes: Uint8Array): void {
  for (const unit of pngChunks(bytes)) {
    if (unit.end > bytes.length) continue;
    const crc = crc32(bytes.subarray(unit.start + 4, unit.end - 4));
    writeField(bytes, { at: unit.end - 4, size: 4, littleEndian: false }, crc);
  }
}

function jpegSegments(bytes: Uint8Array): Unit[] {
  const units: Unit[] = [];
  let at = 2;
  while (at + 4 <= bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1];
    if (marker === 0xd9) break;
    const length: Field = { at: at + 2, size: 2, littleEndian: false };
    const end = at + 2 + readField(bytes, length);
    units.push({ start: at, end, length });
    if (marker === 0xda) break;
    at = end;
  }
  return units;
}

function pngChunks(bytes: Uint8Array): Unit[] {
  const units: Unit[] = [];
  for (let at = 8; at + 12 <= bytes.length; ) {
    const length: Field = { at, size: 4, littleEndian: false };
    const end = at + 12 + readField(bytes, length);
    units.push({ start: at, end, length });
    at = end;
  }
  return units;
}

function riffChunks(bytes: Uint8Array): Unit[] {
  const units: Unit[] = [{ start: 0, end: bytes.length, length: { at: 4, size: 4, littleEndian: true } }];
  for (let at = 12; at + 8 <= bytes.length; ) {
    const length: Field = { at: at + 4, size: 4, littleEndian: true };
    const size = readField(bytes, length);
    const end = at + 8 + size + (size % 2);
    units.push({ start: at, end, length });
    // An animation's frames are chunks inside ANMF, after its 16-byte header.
    if (ascii(bytes, at, 4) === 'ANMF') units.push(...riffChunksIn(bytes, at + 24, end));
    at = end;
  }
  return units;
}

function riffChunksIn(bytes: Uint8Array, from: number, to: number): Unit[] {
  const units: Unit[] = [];
  for (let at = from; at + 8 <= Math.min(to, bytes.length); ) {
    const length: Field = { at: at + 4, size: 4, littleEndian: true };
    const size = readField(bytes, length);
    units.push({ start: at, end: at + 8 + size, length });
    at += 8 + size + (size % 2);
  }
  return units;
}

function gifSubBlocks(bytes: Uint8Array): Unit[] {
  const units: Unit[] = [];
  const packed = bytes[10] ?? 0;
  let at = 13 + (packed & 0x80 ? 3 * 2 ** ((packed & 7) + 1) : 0);
  while (at < bytes.length) {
    const introducer = bytes[at];
    if (introducer === 0x21) at += 2;
    else if (introducer === 0x2c) {
      const local = bytes[at + 9] ?? 0;
      at += 10 + (local & 0x80 ? 3 * 2 ** ((local & 7) + 1) : 0) + 1;
    } else break;
    while (at < bytes.length && bytes[at] !== 0) {
      const length: Field = { at, size: 1, littleEndian: true };
      units.push({ start: at, end: at + 1 + bytes[at], length });
      at += 1 + bytes[at];
    }
    at++;
  }
  return units;
}

/** Each IFD entry (every IFD in the chain): tag, type, count, then the value or its offset. */
function tiffEntries(bytes: Uint8Array): Unit[] {
  const littleEndian = bytes[0] === 0x49;
  const units: Unit[] = [];
  const seen = new Set<number>();
  let ifd = readField(bytes, { at: 4, size: 4, littleEndian });
  while (ifd > 0 && ifd + 2 <= bytes.length && !seen.has(ifd)) {
    seen.add(ifd);
    const count = readField(bytes, { at: ifd, size: 2, littleEndian });
    for (let i = 0; i < count && ifd + 2 + i * 12 + 12 <= bytes.length; i++) {
      const start = ifd + 2 + i * 12;
      units.push({ start, end: start + 12, length: { at: start + 4, size: 4, littleEndian } });
    }
    ifd = readField(bytes, { at: ifd + 2 + count * 12, size: 4, littleEndian });
  }
  return units;
}

const BMFF_CONTAINERS = new Set(['meta', 'iprp', 'ipco', 'iinf', 'dinf', 'moov', 'trak', 'mdia', 'minf', 'stbl']);

function bmffBoxes(bytes: Uint8Array, from: number, to: number): Unit[] {
  const units: Unit[] = [];
  for (let at = from; at + 8 <= Math.min(to, bytes.length); ) {
    const length: Field = { at, size: 4, littleEndian: false };
    const size = readField(bytes, length);
    if (size < 8) break;
    const type = ascii(bytes, at + 4, 4);
    units.push({ start: at, end: at + size, length });
    if (BMFF_CONTAINERS.has(type)) {
      // meta is a full box (4 bytes of version and flags); iinf also has an entry count.
      const header = type === 'meta' ? 12 : type === 'iinf' ? 14 : 8;
      units.push(...bmffBoxes(bytes, at + header, at + size));
    }
    at += size;
  }
  return units;
}

function ascii(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + length));
}
