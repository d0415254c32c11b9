// AssemblyScript: the quality gate's hot passes, compiled to WebAssembly with SIMD by
// `npm run build:wasm` into src/core/quality/wasm/module.ts. Every kernel repeats the arithmetic
// of its JavaScript reference in src/core/quality (same operations, same precision, same order
// of every rounding), so both give the same bits; SIMD is used only where lanes are independent
// (pixels of a row, two rows of the resampling, lags of the autocorrelation), never to reorder a
// sum, and min/max (exact in any order) only where the reference takes extremes. Memory is laid out by the caller
// (src/core/quality/wasm/kernels.ts): every pointer is a byte offset the caller reserved.

/** Where the caller's arena may start: the end of this module's own static data. */
export function heapBase(): usize {
  return __heap_base;
}

// ---------------------------------------------------------------------------------------------
// Luma (src/core/frame.ts toGray): BT.601 in 16-bit fixed point, exact in integers.

const WR: i32 = 19595;
const WG: i32 = 38470;
const WB: i32 = 7471;

@inline
function lumaOf(r: i32, g: i32, b: i32): i32 {
  return (r * WR + g * WG + b * WB + 32768) >>> 16;
}

/** Four lanes of luma from four lanes each of r, g and b (i32). */
@inline
function lumaLanes(r: v128, g: v128, b: v128): v128 {
  const sum = i32x4.add(i32x4.add(i32x4.mul(r, i32x4.splat(WR)), i32x4.mul(g, i32x4.splat(WG))), i32x4.add(i32x4.mul(b, i32x4.splat(WB)), i32x4.splat(32768)));
  return i32x4.shr_u(sum, 16);
}

/** Sixteen bytes of luma from sixteen bytes each of r, g and b. */
@inline
function luma16(r: v128, g: v128, b: v128): v128 {
  const r0 = i16x8.extend_low_i8x16_u(r);
  const r1 = i16x8.extend_high_i8x16_u(r);
  const g0 = i16x8.extend_low_i8x16_u(g);
  const g1 = i16x8.extend_high_i8x16_u(g);
  const b0 = i16x8.extend_low_i8x16_u(b);
  const b1 = i16x8.extend_high_i8x16_u(b);
  const l0 = lumaLanes(i32x4.extend_low_i16x8_u(r0), i32x4.extend_low_i16x8_u(g0), i32x4.extend_low_i16x8_u(b0));
  const l1 = lumaLanes(i32x4.extend_high_i16x8_u(r0), i32x4.extend_high_i16x8_u(g0), i32x4.extend_high_i16x8_u(b0));
  const l2 = lumaLanes(i32x4.extend_low_i16x8_u(r1), i32x4.extend_low_i16x8_u(g1), i32x4.extend_low_i16x8_u(b1));
  const l3 = lumaLanes(i32x4.extend_high_i16x8_u(r1), i32x4.extend_high_i16x8_u(g1), i32x4.extend_high_i16x8_u(b1));
  return i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_u(l0, l1), i16x8.narrow_i32x4_u(l2, l3));
}

/** Luma of `pixels` interleaved pixels of `channels` (3 or 4) bytes at `src`, one byte each to `dst`. */
export function luma(src: usize, dst: usize, pixels: i32, channels: i32): void {
  let i = 0;
  if (channels == 4) {
    for (; i + 16 <= pixels; i += 16) {
      const p = src + (<usize>i << 2);
      const a = v128.load(p);
      const b = v128.load(p, 16);
      const c = v128.load(p, 32);
      const d = v128.load(p, 48);
      // Gather the first, second and third byte of every pixel: two shuffles of two vectors each.
      const rAB = i8x16.shuffle(a, b, 0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0);
      const rCD = i8x16.shuffle(c, d, 0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0);
      const gAB = i8x16.shuffle(a, b, 1, 5, 9, 13, 17, 21, 25, 29, 0, 0, 0, 0, 0, 0, 0, 0);
      const gCD = i8x16.shuffle(c, d, 1, 5, 9, 13, 17, 21, 25, 29, 0, 0, 0, 0, 0, 0, 0, 0);
      const bAB = i8x16.shuffle(a, b, 2, 6, 10, 14, 18, 22, 26, 30, 0, 0, 0, 0, 0, 0, 0, 0);
      const bCD = i8x16.shuffle(c, d, 2, 6, 10, 14, 18, 22, 26, 30, 0, 0, 0, 0, 0, 0, 0, 0);
      const r = i8x16.shuffle(rAB, rCD, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
      const g = i8x16.shuffle(gAB, gCD, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
      const bl = i8x16.shuffle(bAB, bCD, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
      v128.store(dst + i, luma16(r, g, bl));
    }
  } else {
    for (; i + 16 <= pixels; i += 16) {
      const p = src + <usize>i * 3;
      const a = v128.load(p);
      const b = v128.load(p, 16);
      const c = v128.load(p, 32);
      // Bytes 0..47 hold 16 pixels; channel k of pixel j is byte 3j + k. The first shuffle takes
      // the pixels in a and b (bytes < 32), the second puts the last five (in c) after them.
      const rAB = i8x16.shuffle(a, b, 0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 0, 0, 0, 0, 0);
      const gAB = i8x16.shuffle(a, b, 1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31, 0, 0, 0, 0, 0);
      const bAB = i8x16.shuffle(a, b, 2, 5, 8, 11, 14, 17, 20, 23, 26, 29, 0, 0, 0, 0, 0, 0);
      const r = i8x16.shuffle(rAB, c, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 17, 20, 23, 26, 29);
      const g = i8x16.shuffle(gAB, c, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 18, 21, 24, 27, 30);
      const bl = i8x16.shuffle(bAB, c, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 19, 22, 25, 28, 31);
      v128.store(dst + i, luma16(r, g, bl));
    }
  }
  for (; i < pixels; i++) {
    const p = src + <usize>i * channels;
    store<u8>(dst + i, lumaOf(load<u8>(p), load<u8>(p, 1), load<u8>(p, 2)));
  }
}

// ---------------------------------------------------------------------------------------------
// Area resampling (src/core/quality/luma.ts resampleLuma): f64 arithmetic, f32 storage.

/**
 * The rows pass over `rows` rows of `inWidth` luma bytes (row stride `stride`), two rows at a
 * time in the two lanes of an f64x2: the pair's output interleaved, cell by cell, as `outWidth`
 * f32 pairs (and a spare pair after the last, zeroed like the rest by the caller). An odd last row
 * is paired with itself. `cell` (i32) is the reference's cell of each column, `share` its share
 * as f64 and `rest` 1 - share, as the reference computes them; `scaled` holds, for each byte
 * value b, b * norm (f64), the reference's first product.
 */
export function resampleRows(src: usize, stride: i32, inWidth: i32, rows: i32, cell: usize, share: usize, rest: usize, scaled: usize, out: usize, outWidth: i32): void {
  const pairBytes = <usize>outWidth << 3;
  for (let y = 0; y < rows; y += 2) {
    const first = src + <usize>y * stride;
    const second = y + 1 < rows ? first + stride : first;
    const outPair = out + <usize>(y >> 1) * pairBytes;
    for (let x = 0; x < inWidth; x++) {
      const v = v128.load64_lane(scaled + (<usize>load<u8>(second + x) << 3), v128.load64_splat(scaled + (<usize>load<u8>(first + x) << 3)), 1);
      const o = outPair + (<usize>load<i32>(cell + (<usize>x << 2)) << 3);
      const s = v128.load64_splat(share + (<usize>x << 3));
      const r = v128.load64_splat(rest + (<usize>x << 3));
      v128.store64_lane(o, f32x4.demote_f64x2_zero(f64x2.add(f64x2.promote_low_f32x4(v128.load64_zero(o)), f64x2.mul(v, s))), 0);
      // Where the share is 1 this adds v * 0 = +0, which leaves the next cell as it is: no branch to mispredict.
      v128.store64_lane(o + 8, f32x4.demote_f64x2_zero(f64x2.add(f64x2.promote_low_f32x4(v128.load64_zero(o + 8)), f64x2.mul(v, r))), 0);
    }
  }
}

/** out[x] = f32(out[x] + in[x] * s) for four f32 lanes: two lanes of f64 at a time, each rounded as the reference rounds it. */
@inline
function accumulate4(out: usize, input: v128, s: v128): void {
  const current = v128.load(out);
  const low = f64x2.add(f64x2.promote_low_f32x4(current), f64x2.mul(f64x2.promote_low_f32x4(input), s));
  const high = f64x2.add(f64x2.promote_low_f32x4(i32x4.shuffle(current, current, 2, 3, 0, 1)), f64x2.mul(f64x2.promote_low_f32x4(i32x4.shuffle(input, input, 2, 3, 0, 1)), s));
  v128.store(out, i32x4.shuffle(f32x4.demote_f64x2_zero(low), f32x4.demote_f64x2_zero(high), 0, 1, 4, 5));
}

@inline
function accumulate1(out: usize, input: f32, s: f64): void {
  store<f32>(out, <f32>(<f64>load<f32>(out) + <f64>input * s));
}

/**
 * The columns pass: `height` rows of `width` f32, read as the rows pass leaves them (pairs of
 * rows interleaved), into `outHeight` rows of `width` f32 (zeroed by the caller). Within a pair the
 * first row's contributions are added before the second's, as the reference adds them.
 */
export function resampleColumns(src: usize, width: i32, height: i32, cell: usize, share: usize, norm: f64, out: usize): void {
  const rowBytes = <usize>width << 2;
  for (let y = 0; y < height; y += 2) {
    const pair = src + <usize>(y >> 1) * (rowBytes << 1);
    const twice = y + 1 < height;
    const sh0 = <f64>load<f32>(share + (<usize>y << 2));
    const s0 = sh0 * norm;
    const r0 = (1 - sh0) * norm;
    const out0 = out + <usize>load<i32>(cell + (<usize>y << 2)) * rowBytes;
    const sh1 = twice ? <f64>load<f32>(share + (<usize>(y + 1) << 2)) : 0;
    const s1 = sh1 * norm;
    const r1 = (1 - sh1) * norm;
    const out1 = twice ? out + <usize>load<i32>(cell + (<usize>(y + 1) << 2)) * rowBytes : out0;
    const s0Lane = f64x2.splat(s0);
    const r0Lane = f64x2.splat(r0);
    const s1Lane = f64x2.splat(s1);
    const r1Lane = f64x2.splat(r1);
    let x = 0;
    for (; x + 4 <= width; x += 4) {
      const p = pair + (<usize>x << 3);
      const v0 = v128.load(p);
      const v1 = v128.load(p, 16);
      const a = i32x4.shuffle(v0, v1, 0, 2, 4, 6);
      const at = <usize>x << 2;
      accumulate4(out0 + at, a, s0Lane);
      if (r0 > 0) accumulate4(out0 + rowBytes + at, a, r0Lane);
      if (twice) {
        const b = i32x4.shuffle(v0, v1, 1, 3, 5, 7);
        accumulate4(out1 + at, b, s1Lane);
        if (r1 > 0) accumulate4(out1 + rowBytes + at, b, r1Lane);
      }
    }
    for (; x < width; x++) {
      const p = pair + (<usize>x << 3);
      const at = <usize>x << 2;
      const a = load<f32>(p);
      accumulate1(out0 + at, a, s0);
      if (r0 > 0) accumulate1(out0 + rowBytes + at, a, r0);
      if (twice) {
        const b = load<f32>(p, 4);
        accumulate1(out1 + at, b, s1);
        if (r1 > 0) accumulate1(out1 + rowBytes + at, b, r1);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Edges (src/core/quality/edges.ts sampleEdges).

/** Transposes a width x height f32 plane into height x width, so that columns scan as rows: 4 x 4 blocks in registers. */
export function transpose(src: usize, dst: usize, width: i32, height: i32): void {
  const rowBytes = <usize>width << 2;
  const columnBytes = <usize>height << 2;
  let y = 0;
  for (; y + 4 <= height; y += 4) {
    const from = src + <usize>y * rowBytes;
    let x = 0;
    for (; x + 4 <= width; x += 4) {
      const p = from + (<usize>x << 2);
      const r0 = v128.load(p);
      const r1 = v128.load(p + rowBytes);
      const r2 = v128.load(p + 2 * rowBytes);
      const r3 = v128.load(p + 3 * rowBytes);
      const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
      const t1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
      const t2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
      const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
      const q = dst + <usize>x * columnBytes + (<usize>y << 2);
      v128.store(q, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
      v128.store(q + columnBytes, i32x4.shuffle(t0, t2, 2, 3, 6, 7));
      v128.store(q + 2 * columnBytes, i32x4.shuffle(t1, t3, 0, 1, 4, 5));
      v128.store(q + 3 * columnBytes, i32x4.shuffle(t1, t3, 2, 3, 6, 7));
    }
    for (; x < width; x++) {
      for (let k = 0; k < 4; k++) store<f32>(dst + (<usize>(x * height + y + k) << 2), load<f32>(src + (<usize>((y + k) * width + x) << 2)));
    }
  }
  for (; y < height; y++) {
    for (let x = 0; x < width; x++) store<f32>(dst + (<usize>(x * height + y) << 2), load<f32>(src + (<usize>(y * width + x) << 2)));
  }
}

/**
 * The 25th percentile of window ranges along every 4th of `lines` contiguous lines of `length`
 * f32 (see the reference's quietRange), or -1 when the lines are shorter than a window. `bins`
 * is 1024 u32 of scratch.
 */
export function quietRange(data: usize, lines: i32, length: i32, window: i32, bins: usize): f64 {
  memory.fill(bins, 0, 1024 << 2);
  let total = 0;
  const span = 2 * window + 1;
  for (let line = 1; line < lines; line += 4) {
    const base = data + (<usize>(line * length) << 2);
    for (let t = 0; t + span <= length; t += span) {
      let low = f32.POSITIVE_INFINITY;
      let high = f32.NEGATIVE_INFINITY;
      for (let j = t, end = t + span; j < end; j++) {
        const v = load<f32>(base + (<usize>j << 2));
        if (v < low) low = v;
        if (v > high) high = v;
      }
      const b = min(<i32>((<f64>high - <f64>low) * 4), 1023);
      const at = bins + (<usize>b << 2);
      store<u32>(at, load<u32>(at) + 1);
      total++;
    }
  }
  if (total == 0) return -1;
  let seen = 0;
  for (let b = 0; b < 1024; b++) {
    seen += load<u32>(bins + (<usize>b << 2));
    if (seen * 4 >= total) return <f64>b / 4;
  }
  return 256;
}

// Scan state between the row and the column scan (one gate runs at a time in a module instance).
let edgeCount: i32 = 0;
let pairedCount: i32 = 0;

export function resetEdges(): void {
  edgeCount = 0;
  pairedCount = 0;
}

export function edgesFound(): i32 {
  return edgeCount;
}

export function edgesPaired(): i32 {
  return pairedCount;
}

/** The smallest f32 at or above `x` (positive), so that an f32 compares with it as with `x`. */
function f32AtLeast(x: f64): f32 {
  let y = <f32>x;
  if (<f64>y < x) y = reinterpret<f32>(reinterpret<i32>(y) + 1);
  return y;
}

/**
 * The reference's scanLines over `lines` contiguous lines of `length` f32 at `data` (a plane, or
 * its transpose for the column scan). An edge at line l, sample t is recorded at pixel index
 * l * posLine + t * posStep of the plane as it is. Scratch: `gradient` holds length + 8 f32.
 * The candidates (local maxima of the gradient over `minGradient`, not steeper across) are found
 * four samples at a time; each is then judged in order, exactly as the reference judges it.
 */
export function scanLines(
  data: usize,
  lines: i32,
  length: i32,
  gradient: usize,
  window: i32,
  minGradient: f64,
  significantContrast: f64,
  pairDistance: i32,
  minSteepness: f64,
  posLine: i32,
  posStep: i32,
  capacity: i32,
  position: usize,
  lowOut: usize,
  highOut: usize,
  steepnessOut: usize,
): void {
  const lineBytes = <usize>length << 2;
  const halfLane = f32x4.splat(0.5);
  const minLane = f32x4.splat(f32AtLeast(minGradient));
  for (let line = 1; line < lines - 1; line++) {
    const row = data + <usize>line * lineBytes;
    // (a - b) * 0.5 in f32 is the f64 result rounded once, as the reference stores it.
    let t = 1;
    for (; t + 4 < length; t += 4) {
      const p = row + (<usize>t << 2);
      v128.store(gradient + (<usize>t << 2), f32x4.mul(f32x4.sub(v128.load(p, 4), v128.load(p - 4)), halfLane));
    }
    for (; t < length - 1; t++) {
      const p = row + (<usize>t << 2);
      store<f32>(gradient + (<usize>t << 2), <f32>((<f64>load<f32>(p, 4) - <f64>load<f32>(p - 4)) * 0.5));
    }
    let lastAt: i32 = -0x40000000;
    let lastRising = false;
    let lastPaired = false;
    for (let t0 = 2; t0 < length - 2; t0 += 4) {
      const q = gradient + (<usize>t0 << 2);
      const g4 = f32x4.abs(v128.load(q));
      const local = v128.and(v128.and(f32x4.ge(g4, minLane), f32x4.gt(g4, f32x4.abs(v128.load(q - 4)))), f32x4.ge(g4, f32x4.abs(v128.load(q, 4))));
      let bits = i32x4.bitmask(local);
      const beyond = t0 + 4 - (length - 2);
      if (beyond > 0) bits &= (1 << (4 - beyond)) - 1;
      if (bits != 0) {
        // Drop the candidates whose gradient across is the steeper, four at a time, in f64 as the
        // reference compares them.
        const p = row + (<usize>t0 << 2);
        const below = v128.load(p + lineBytes);
        const above = v128.load(p - lineBytes);
        const halfPair = f64x2.splat(0.5);
        const g2Low = f64x2.mul(f64x2.abs(f64x2.sub(f64x2.promote_low_f32x4(below), f64x2.promote_low_f32x4(above))), halfPair);
        const g2High = f64x2.mul(
          f64x2.abs(f64x2.sub(f64x2.promote_low_f32x4(i32x4.shuffle(below, below, 2, 3, 0, 1)), f64x2.promote_low_f32x4(i32x4.shuffle(above, above, 2, 3, 0, 1)))),
          halfPair,
        );
        const keepLow = f64x2.le(g2Low, f64x2.promote_low_f32x4(g4));
        const keepHigh = f64x2.le(g2High, f64x2.promote_low_f32x4(i32x4.shuffle(g4, g4, 2, 3, 0, 1)));
        bits &= i64x2.bitmask(keepLow) | (i64x2.bitmask(keepHigh) << 2);
      }
      while (bits != 0) {
        const t = t0 + ctz(bits);
        bits &= bits - 1;
        const signed = <f64>load<f32>(gradient + (<usize>t << 2));
        const g = Math.abs(signed);
        const p = row + (<usize>t << 2);
        const g2 = Math.abs(<f64>load<f32>(p + lineBytes) - <f64>load<f32>(p - lineBytes)) * 0.5;
        if (g2 > g) continue;
        // The window's extremes, four samples at a time (min and max are exact in any order).
        const from = t > window ? t - window : 0;
        const to = t + window < length ? t + window : length - 1;
        let j = from;
        let lowLanes = f32x4.splat(f32.POSITIVE_INFINITY);
        let highLanes = f32x4.splat(f32.NEGATIVE_INFINITY);
        for (; j + 4 <= to + 1; j += 4) {
          const v = v128.load(row + (<usize>j << 2));
          lowLanes = f32x4.pmin(lowLanes, v);
          highLanes = f32x4.pmax(highLanes, v);
        }
        lowLanes = f32x4.pmin(lowLanes, i32x4.shuffle(lowLanes, lowLanes, 2, 3, 0, 1));
        highLanes = f32x4.pmax(highLanes, i32x4.shuffle(highLanes, highLanes, 2, 3, 0, 1));
        let low = min(f32x4.extract_lane(lowLanes, 0), f32x4.extract_lane(lowLanes, 1));
        let high = max(f32x4.extract_lane(highLanes, 0), f32x4.extract_lane(highLanes, 1));
        for (; j <= to; j++) {
          const v = load<f32>(row + (<usize>j << 2));
          if (v < low) low = v;
          if (v > high) high = v;
        }
        const range = <f64>high - <f64>low;
        if (range < significantContrast) continue;
        const steepness = Math.sqrt(g * g + g2 * g2) / range;
        if (steepness < minSteepness) continue;
        const rising = signed > 0;
        const pairs = rising != lastRising && t - lastAt <= pairDistance;
        if (pairs) pairedCount += lastPaired ? 1 : 2;
        lastAt = t;
        lastRising = rising;
        lastPaired = pairs;
        if (edgeCount >= capacity) continue;
        const at = <usize>edgeCount << 2;
        store<i32>(position + at, line * posLine + t * posStep);
        store<f32>(lowOut + at, low);
        store<f32>(highOut + at, high);
        store<f32>(steepnessOut + at, <f32>steepness);
        edgeCount++;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Letters (src/core/quality/letters.ts measureLetters).

/**
 * The dark-mark mask (1 byte a pixel) of a width x height f32 plane: each pixel against the mean
 * of a (2 radius + 1) window from an f64 integral image (`integral`, (width + 1) x (height + 1)),
 * dark when under it by the most of `minDarkness`, `darknessShare` of it and `noiseFloor`.
 */
export function darkMarks(data: usize, width: i32, height: i32, radius: i32, minDarkness: f64, darknessShare: f64, noiseFloor: f64, integral: usize, mask: usize): void {
  const stride = width + 1;
  memory.fill(integral, 0, <usize>stride << 3);
  for (let y = 0; y < height; y++) {
    let row: f64 = 0;
    const above = integral + (<usize>(y * stride) << 3);
    const here = above + (<usize>stride << 3);
    store<f64>(here, 0);
    for (let x = 0; x < width; x++) {
      row += <f64>load<f32>(data + (<usize>(y * width + x) << 2));
      store<f64>(here + (<usize>(x + 1) << 3), load<f64>(above + (<usize>(x + 1) << 3)) + row);
    }
  }
  const minLane = f64x2.splat(minDarkness);
  const shareLane = f64x2.splat(darknessShare);
  const floorLane = f64x2.splat(noiseFloor);
  const span = 2 * radius + 1;
  for (let y = 0; y < height; y++) {
    const y0 = max(0, y - radius);
    const y1 = min(height, y + radius + 1);
    const top = integral + (<usize>(y0 * stride) << 3);
    const bottom = integral + (<usize>(y1 * stride) << 3);
    // Where the window is whole across, two pixels at a time: the same f64 operations, in the
    // same order, as the scalar loop below.
    const areaLane = f64x2.splat(<f64>((y1 - y0) * span));
    let x = radius;
    for (; x + 1 + radius + 1 <= width; x += 2) {
      const x0 = <usize>(x - radius) << 3;
      const x1 = <usize>(x + radius + 1) << 3;
      const sum = f64x2.add(f64x2.sub(f64x2.sub(v128.load(bottom + x1), v128.load(top + x1)), v128.load(bottom + x0)), v128.load(top + x0));
      const mean = f64x2.div(sum, areaLane);
      const threshold = f64x2.max(f64x2.max(minLane, f64x2.mul(shareLane, mean)), floorLane);
      const i = y * width + x;
      const v = f64x2.promote_low_f32x4(v128.load64_zero(data + (<usize>i << 2)));
      const dark = i64x2.bitmask(f64x2.lt(v, f64x2.sub(mean, threshold)));
      store<u8>(mask + i, dark & 1);
      store<u8>(mask + i + 1, dark >> 1);
    }
    const interiorEnd = x;
    for (x = 0; x < width; x++) {
      if (x == radius && interiorEnd > radius) x = interiorEnd;
      if (x >= width) break;
      const x0 = max(0, x - radius);
      const x1 = min(width, x + radius + 1);
      const sum = load<f64>(bottom + (<usize>x1 << 3)) - load<f64>(top + (<usize>x1 << 3)) - load<f64>(bottom + (<usize>x0 << 3)) + load<f64>(top + (<usize>x0 << 3));
      const mean = sum / <f64>((y1 - y0) * (x1 - x0));
      const i = y * width + x;
      const v = <f64>load<f32>(data + (<usize>i << 2));
      store<u8>(mask + i, v < mean - Math.max(Math.max(minDarkness, darknessShare * mean), noiseFloor) ? 1 : 0);
    }
  }
}

@inline
function parentAt(parent: usize, i: i32): i32 {
  return load<i32>(parent + (<usize>i << 2));
}

@inline
function setParent(parent: usize, i: i32, v: i32): void {
  store<i32>(parent + (<usize>i << 2), v);
}

function find(parent: usize, i: i32): i32 {
  let root = i;
  while (parentAt(parent, root) != root) root = parentAt(parent, root);
  while (parentAt(parent, i) != root) {
    const next = parentAt(parent, i);
    setParent(parent, i, root);
    i = next;
  }
  return root;
}

@inline
function union(parent: usize, a: i32, b: i32): void {
  const ra = find(parent, a);
  const rb = find(parent, b);
  if (ra != rb) setParent(parent, max(ra, rb), min(ra, rb));
}

/**
 * The 8-connected components of the mask, as the reference labels them, and each one's box and
 * area: `parent` and `id` hold width * height i32 of scratch; `left`, `right`, `top`, `bottom` and
 * `area` one i32 a component, for as many as there can be. Returns the number of components.
 */
export function components(mask: usize, width: i32, height: i32, parent: usize, id: usize, left: usize, right: usize, top: usize, bottom: usize, area: usize): i32 {
  const n = width * height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (load<u8>(mask + i) == 0) continue;
      setParent(parent, i, i);
      if (x > 0 && load<u8>(mask + i - 1)) union(parent, i, i - 1);
      if (y > 0) {
        if (load<u8>(mask + i - width)) union(parent, i, i - width);
        if (x > 0 && load<u8>(mask + i - width - 1)) union(parent, i, i - width - 1);
        if (x < width - 1 && load<u8>(mask + i - width + 1)) union(parent, i, i - width + 1);
      }
    }
  }
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (load<u8>(mask + i) != 0 && find(parent, i) == i) store<i32>(id + (<usize>i << 2), count++);
  }
  for (let c = 0; c < count; c++) {
    const at = <usize>c << 2;
    store<i32>(left + at, width);
    store<i32>(right + at, -1);
    store<i32>(top + at, height);
    store<i32>(bottom + at, -1);
    store<i32>(area + at, 0);
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (load<u8>(mask + i) == 0) continue;
      const at = <usize>load<i32>(id + (<usize>find(parent, i) << 2)) << 2;
      if (x < load<i32>(left + at)) store<i32>(left + at, x);
      if (x > load<i32>(right + at)) store<i32>(right + at, x);
      if (y < load<i32>(top + at)) store<i32>(top + at, y);
      store<i32>(bottom + at, y);
      store<i32>(area + at, load<i32>(area + at) + 1);
    }
  }
  return count;
}

// ---------------------------------------------------------------------------------------------
// Line pitch (src/core/quality/line-pitch.ts autocorrelation).

/** JavaScript's Math.round: the nearest integer, halves up (x - floor(x) is exact in f64). */
@inline
function roundHalfUp(x: f64): f64 {
  const r = Math.floor(x);
  return x - r >= 0.5 ? r + 1 : r;
}

/**
 * The reference's stripProfiles: per strip, the count of the `count` marks (row i32, strip i32,
 * offset f32) on each of `height` rows once sheared by `slope`, into `profiles` (strips x height
 * f32, zeroed here). Returns the sum of squared counts.
 */
export function stripProfiles(rows: usize, strips: usize, offsets: usize, count: i32, profiles: usize, stripCount: i32, height: i32, slope: f64): f64 {
  memory.fill(profiles, 0, <usize>(stripCount * height) << 2);
  let squares: f64 = 0;
  for (let m = 0; m < count; m++) {
    const at4 = <usize>m << 2;
    const level = roundHalfUp(<f64>load<i32>(rows + at4) - <f64>load<f32>(offsets + at4) * slope);
    if (level < 0 || level >= <f64>height) continue;
    const p = profiles + (<usize>(load<i32>(strips + at4) * height + <i32>level) << 2);
    const v = load<f32>(p);
    squares += 2 * <f64>v + 1;
    store<f32>(p, v + 1);
  }
  return squares;
}

/**
 * The autocorrelation of the mean-removed profiles of the strips holding at least `stripShare`
 * of the busiest one's edges, for lags 1..lags + 1 into `raw` (f64, lags + 2 of them, zeroed
 * here), then smoothed [1 2 1] / 4 into `correlation` (lags + 1 f64). Returns the energy. Four
 * lags are summed at once, one lane each, every lane adding its terms in the reference's order.
 * `profiles` (strips x height f32) is overwritten, and `sums` holds strips f64 of scratch.
 */
export function autocorrelation(profiles: usize, strips: i32, height: i32, lags: i32, stripShare: f64, sums: usize, raw: usize, correlation: usize): f64 {
  let busiest = -Infinity;
  for (let s = 0; s < strips; s++) {
    let sum: f64 = 0;
    const row = profiles + (<usize>(s * height) << 2);
    for (let y = 0; y < height; y++) sum += <f64>load<f32>(row + (<usize>y << 2));
    store<f64>(sums + (<usize>s << 3), sum);
    if (sum > busiest) busiest = sum;
  }
  memory.fill(raw, 0, <usize>(lags + 2) << 3);
  let energy: f64 = 0;
  for (let s = 0; s < strips; s++) {
    const sum = load<f64>(sums + (<usize>s << 3));
    if (sum == 0 || sum < stripShare * busiest) continue;
    const row = profiles + (<usize>(s * height) << 2);
    const mean = sum / <f64>height;
    for (let y = 0; y < height; y++) {
      const p = row + (<usize>y << 2);
      const v = <f32>(<f64>load<f32>(p) - mean);
      store<f32>(p, v);
      energy += <f64>v * <f64>v;
    }
    let lag = 1;
    for (; lag + 3 <= lags + 1; lag += 4) {
      let near = f64x2.splat(0);
      let far = f64x2.splat(0);
      const end = height - (lag + 3);
      for (let y = 0; y < end; y++) {
        const p = row + (<usize>y << 2);
        const here = f64x2.splat(<f64>load<f32>(p));
        const ahead = v128.load(p + (<usize>lag << 2));
        near = f64x2.add(near, f64x2.mul(here, f64x2.promote_low_f32x4(ahead)));
        far = f64x2.add(far, f64x2.mul(here, f64x2.promote_low_f32x4(i32x4.shuffle(ahead, ahead, 2, 3, 0, 1))));
      }
      let s0 = f64x2.extract_lane(near, 0);
      let s1 = f64x2.extract_lane(near, 1);
      let s2 = f64x2.extract_lane(far, 0);
      const s3 = f64x2.extract_lane(far, 1);
      // The last terms of the shorter lags, in order.
      for (let y = max(0, end); y < height - lag; y++) {
        const here = <f64>load<f32>(row + (<usize>y << 2));
        s0 += here * <f64>load<f32>(row + (<usize>(y + lag) << 2));
        if (y < height - lag - 1) s1 += here * <f64>load<f32>(row + (<usize>(y + lag + 1) << 2));
        if (y < height - lag - 2) s2 += here * <f64>load<f32>(row + (<usize>(y + lag + 2) << 2));
      }
      const at = raw + (<usize>lag << 3);
      store<f64>(at, load<f64>(at) + s0);
      store<f64>(at, load<f64>(at, 8) + s1, 8);
      store<f64>(at, load<f64>(at, 16) + s2, 16);
      store<f64>(at, load<f64>(at, 24) + s3, 24);
    }
    for (; lag <= lags + 1; lag++) {
      let sum: f64 = 0;
      for (let y = 0; y < height - lag; y++) sum += <f64>load<f32>(row + (<usize>y << 2)) * <f64>load<f32>(row + (<usize>(y + lag) << 2));
      const at = raw + (<usize>lag << 3);
      store<f64>(at, load<f64>(at) + sum);
    }
  }
  store<f64>(raw, energy);
  store<f64>(correlation, 0);
  for (let lag = 1; lag <= lags; lag++) {
    const at = raw + (<usize>lag << 3);
    store<f64>(correlation + (<usize>lag << 3), (load<f64>(at - 8) + 2 * load<f64>(at) + load<f64>(at, 8)) / 4);
  }
  return energy;
}
