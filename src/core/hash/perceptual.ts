import { VisionopsError } from '../errors.js';
import type { GrayFrame } from '../frame.js';

/**
 * DCT perceptual hash as pHash (phash.org) defines it: shrink to 32 x 32, take the 2-D DCT, keep
 * frequencies 1..8 in each direction (leaving out frequency 0, whose DC term is the overall
 * brightness and would make one bit constant), and set a bit where a coefficient is above the
 * median of the 64. Re-encoding and rescaling move a few bits; another page moves a third or more.
 */
const SIDE = 32;
const BLOCK = 8;
const BITS = BLOCK * BLOCK;

/** cos((2x + 1) u pi / 2N) for the frequencies u = 1..8 that the hash keeps. */
const COSINES = buildCosines();

/** The 64-bit hash of a gray image as 16 hex characters, most significant bit first. */
export function perceptualHash(gray: GrayFrame): string {
  if (gray.width < 1 || gray.height < 1) {
    throw new VisionopsError('INVALID_REQUEST', 'Cannot hash an image with no pixels: pass a frame at least 1 x 1.', {
      width: gray.width,
      height: gray.height,
    });
  }
  const coefficients = lowFrequencies(shrink(gray));
  const median = medianOf(coefficients);
  let hex = '';
  for (let nibble = 0; nibble < BITS / 4; nibble++) {
    let value = 0;
    for (let bit = 0; bit < 4; bit++) value = (value << 1) | (coefficients[nibble * 4 + bit] > median ? 1 : 0);
    hex += value.toString(16);
  }
  return hex;
}

/** Number of differing bits between two hashes of the same length (0..64 for perceptualHash). */
export function hammingDistance(a: string, b: string): number {
  if (a.length !== b.length || !HEX.test(a) || !HEX.test(b)) {
    throw new VisionopsError(
      'INVALID_REQUEST',
      'Hashes to compare must be hex strings of the same length, as perceptualHash returns them.',
      { a, b },
    );
  }
  let distance = 0;
  for (let i = 0; i < a.length; i++) distance += NIBBLE_BITS[parseInt(a[i], 16) ^ parseInt(b[i], 16)];
  return distance;
}

const HEX = /^[0-9a-fA-F]+$/;
const NIBBLE_BITS = [0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4];

/**
 * Box-averages the image into SIDE x SIDE cells. Each cell covers whole source pixels, so a large
 * image is averaged (no aliasing from sampling); a side under SIDE pixels repeats its pixels.
 */
function shrink(gray: GrayFrame): Float64Array {
  const { width, height, data } = gray;
  const xs = cellBounds(width);
  const ys = cellBounds(height);
  const out = new Float64Array(SIDE * SIDE);
  for (let cy = 0; cy < SIDE; cy++) {
    const top = ys[cy];
    const bottom = ys[cy + SIDE];
    for (let y = top; y < bottom; y++) {
      const row = y * width;
      for (let cx = 0; cx < SIDE; cx++) {
        const end = row + xs[cx + SIDE];
        let sum = 0;
        for (let i = row + xs[cx]; i < end; i++) sum += data[i];
        out[cy * SIDE + cx] += sum;
      }
    }
    for (let cx = 0; cx < SIDE; cx++) out[cy * SIDE + cx] /= (bottom - top) * (xs[cx + SIDE] - xs[cx]);
  }
  return out;
}

/** Start of each cell in [0, SIDE) followed by its end in [SIDE, 2 * SIDE); every cell holds at least one pixel. */
function cellBounds(length: number): Int32Array {
  const bounds = new Int32Array(2 * SIDE);
  for (let cell = 0; cell < SIDE; cell++) {
    const start = Math.min(Math.floor((cell * length) / SIDE), length - 1);
    bounds[cell] = start;
    bounds[cell + SIDE] = Math.max(start + 1, Math.floor(((cell + 1) * length) / SIDE));
  }
  return bounds;
}

/** DCT-II coefficients (u, v) for u, v in 1..8, row-major; unnormalised, as only their order matters. */
function lowFrequencies(pixels: Float64Array): Float64Array {
  const rows = new Float64Array(SIDE * BLOCK);
  for (let y = 0; y < SIDE; y++) {
    for (let v = 0; v < BLOCK; v++) {
      let sum = 0;
      for (let x = 0; x < SIDE; x++) sum += pixels[y * SIDE + x] * COSINES[v * SIDE + x];
      rows[y * BLOCK + v] = sum;
    }
  }
  const out = new Float64Array(BITS);
  for (let u = 0; u < BLOCK; u++) {
    for (let v = 0; v < BLOCK; v++) {
      let sum = 0;
      for (let y = 0; y < SIDE; y++) sum += rows[y * BLOCK + v] * COSINES[u * SIDE + y];
      out[u * BLOCK + v] = sum;
    }
  }
  return out;
}

function buildCosines(): Float64Array {
  const table = new Float64Array(BLOCK * SIDE);
  for (let k = 0; k < BLOCK; k++) {
    const frequency = k + 1;
    for (let x = 0; x < SIDE; x++) table[k * SIDE + x] = Math.cos(((2 * x + 1) * frequency * Math.PI) / (2 * SIDE));
  }
  return table;
}

function medianOf(values: Float64Array): number {
  const sorted = Float64Array.from(values).sort();
  const middle = sorted.length / 2;
  return (sorted[middle - 1] + sorted[middle]) / 2;
}
