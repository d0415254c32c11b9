import exifReader from 'exif-reader';

type ExifValue = string | number;
type Tags = Record<string, unknown> | null | undefined;

/**
 * The capture fields worth keeping: what took the picture, when, and with which exposure. The
 * rest (maker notes, thumbnails, serial numbers, owner names) is bulk, or identifies people.
 */
const IMAGE_FIELDS = ['Make', 'Model', 'Software', 'DateTime', 'Orientation'];
const PHOTO_FIELDS = [
  'DateTimeOriginal',
  'DateTimeDigitized',
  'OffsetTimeOriginal',
  'SubSecTimeOriginal',
  'ExposureTime',
  'FNumber',
  'ISOSpeedRatings',
  'ExposureProgram',
  'ExposureBiasValue',
  'MeteringMode',
  'Flash',
  'FocalLength',
  'FocalLengthIn35mmFilm',
  'DigitalZoomRatio',
  'WhiteBalance',
  'SceneCaptureType',
  'SubjectDistance',
  'LensMake',
  'LensModel',
  'PixelXDimension',
  'PixelYDimension',
];
/** EXIF 2.3 renamed ISOSpeedRatings to PhotographicSensitivity; callers know it as ISO. */
const RENAMED: Record<string, string> = { ISOSpeedRatings: 'ISO' };
const MAX_STRING = 200;

/**
 * Capture fields from a raw EXIF block (as sharp's metadata() returns it), GPS only when asked.
 * A malformed block yields what could be read, or nothing: EXIF is advisory, the pixels decide
 * whether an image is good.
 */
export function readExif(raw: Buffer | undefined, keepGps: boolean): Record<string, ExifValue> {
  if (!raw) return {};
  try {
    const tags = exifReader(raw);
    const out: Record<string, ExifValue> = {};
    copyFields(tags.Image, IMAGE_FIELDS, out);
    copyFields(tags.Photo, PHOTO_FIELDS, out);
    if (keepGps) Object.assign(out, gpsFields(tags.GPSInfo));
    return out;
  } catch {
    return {};
  }
}

/** A capture field stored as a list (ISOSpeedRatings may hold several) keeps its first value. */
function copyFields(tags: Tags, fields: string[], out: Record<string, ExifValue>): void {
  if (!tags) return;
  for (const field of fields) {
    const raw = tags[field];
    const value = toExifValue(Array.isArray(raw) ? raw[0] : raw);
    if (value !== undefined) out[RENAMED[field] ?? field] = value;
  }
}

/**
 * Every GPS tag, with latitude and longitude as signed decimal degrees and altitude signed
 * (below sea level negative), so a reader needs no knowledge of the Ref tags.
 */
function gpsFields(tags: Tags): Record<string, ExifValue> {
  const out: Record<string, ExifValue> = {};
  if (!tags) return out;
  for (const [key, raw] of Object.entries(tags)) {
    const value = toExifValue(raw);
    if (value !== undefined) out[key] = value;
  }
  const latitude = degrees(tags.GPSLatitude, tags.GPSLatitudeRef === 'S');
  const longitude = degrees(tags.GPSLongitude, tags.GPSLongitudeRef === 'W');
  if (latitude !== undefined) out.GPSLatitude = latitude;
  if (longitude !== undefined) out.GPSLongitude = longitude;
  if (typeof tags.GPSAltitude === 'number' && Number.isFinite(tags.GPSAltitude)) {
    out.GPSAltitude = tags.GPSAltitudeRef === 1 ? -tags.GPSAltitude : tags.GPSAltitude;
  }
  if (isNumbers(tags.GPSTimeStamp)) out.GPSTimeStamp = tags.GPSTimeStamp.map((part) => String(part).padStart(2, '0')).join(':');
  return out;
}

/** Degrees, minutes and seconds (as EXIF stores them) to signed decimal degrees. */
function degrees(value: unknown, negative: boolean): number | undefined {
  if (!isNumbers(value) || value.length === 0) return undefined;
  const [d, m = 0, s = 0] = value;
  const decimal = d + m / 60 + s / 3600;
  return negative ? -decimal : decimal;
}

function toExifValue(value: unknown): ExifValue | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string') {
    const text = value.replace(/\0/g, '').trim();
    return text === '' ? undefined : text.slice(0, MAX_STRING);
  }
  if (value instanceof Date) return wallClock(value);
  if (isNumbers(value)) return value.length === 1 ? value[0] : value.length > 1 ? value.join(' ') : undefined;
  return undefined;
}

/**
 * exif-reader reads "2024:05:01 10:20:30" as that time in UTC, but EXIF records the camera's wall
 * clock with no zone (OffsetTimeOriginal gives it when the camera knew). Written back without a
 * zone, it says no more than the file did. A zeroed date ("0000:00:00 ...") comes out before 1900.
 */
function wallClock(date: Date): string | undefined {
  if (!Number.isFinite(date.getTime()) || date.getUTCFullYear() < 1900) return undefined;
  return date.toISOString().slice(0, 19);
}

function isNumbers(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'number' && Number.isFinite(item));
}
