import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isVisionopsError } from '../src/core/errors.js';
import { readNpy, writeNpy } from '../src/core/npy.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'parity');

function header(bytes: Uint8Array): string {
  const length = bytes[6] === 1 ? bytes[8] | (bytes[9] << 8) : new DataView(bytes.buffer).getUint32(8, true);
  const start = bytes[6] === 1 ? 10 : 12;
  return new TextDecoder('latin1').decode(bytes.subarray(start, start + length));
}

/** A hand-made .npy: numpy's magic, version, little-endian header length, header, data. */
function npy(dict: string, data: Uint8Array, major = 1): Uint8Array {
  const preamble = major === 1 ? 10 : 12;
  const text = dict + '\n';
  const out = new Uint8Array(preamble + text.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  for (let i = 0; i < text.length; i++) out[preamble + i] = text.charCodeAt(i);
  out.set(data, preamble + text.length);
  return out;
}

test('writeNpy writes numpy 1.0 headers aligned to 64 bytes and readNpy reads them back', () => {
  const data = Float32Array.from({ length: 24 }, (_, i) => i / 7 - 1);
  const bytes = writeNpy(data, [2, 3, 4]);
  assert.deepEqual(Array.from(bytes.subarray(0, 8)), [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  assert.equal((10 + header(bytes).length) % 64, 0);
  assert.match(header(bytes), /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3, 4\), \} *\n$/);
  assert.equal(bytes.length, 10 + header(bytes).length + 24 * 4);
  const back = readNpy(bytes);
  assert.deepEqual(back, { shape: [2, 3, 4], dtype: '<f4', data });
  assert.match(header(writeNpy(new Float32Array(5), [5])), /'shape': \(5,\)/);
  assert.deepEqual(readNpy(writeNpy(new Float32Array([3.5]), [])).shape, []);
});

test('a header too long for 1.0 is written as 2.0, and 2.0 reads back', () => {
  const shape = Array.from({ length: 30000 }, () => 1);
  const bytes = writeNpy(new Float32Array([42]), shape);
  assert.equal(bytes[6], 2);
  assert.equal((12 + header(bytes).length) % 64, 0);
  const back = readNpy(bytes);
  assert.equal(back.shape.length, 30000);
  assert.deepEqual(Array.from(back.data), [42]);
});

test('readNpy reads what numpy.save wrote: uint8 images and float32 tensors', async () => {
  const image = readNpy(new Uint8Array(await readFile(join(FIXTURES, 'pil-bilinear-down.npy'))));
  assert.equal(image.dtype, '|u1');
  assert.deepEqual(image.shape, [47, 61, 3]);
  assert.ok(image.data.every((v) => Number.isInteger(v) && v >= 0 && v <= 255));
  const tensor = readNpy(new Uint8Array(await readFile(join(FIXTURES, 'ultralytics-letterbox.npy'))));
  assert.equal(tensor.dtype, '<f4');
  assert.deepEqual(tensor.shape, [3, 40, 64]);
  // The letterbox's padding (114 / 255) fills the first five columns of every row.
  assert.equal(tensor.data[0], Math.fround(Math.fround(114) / 255));
});

test('readNpy converts float64 and big-endian data to float32', () => {
  const doubles = new Uint8Array(16);
  new DataView(doubles.buffer).setFloat64(0, 0.1, true);
  new DataView(doubles.buffer).setFloat64(8, -2.5, true);
  assert.deepEqual(Array.from(readNpy(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", doubles)).data), [Math.fround(0.1), -2.5]);
  const bigEndian = new Uint8Array(4);
  new DataView(bigEndian.buffer).setFloat32(0, 1.25, false);
  assert.deepEqual(Array.from(readNpy(npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", bigEndian, 2)).data), [1.25]);
});

test('readNpy refuses what it cannot read with a message that says what to do', () => {
  const refusals: [string, Uint8Array, RegExp][] = [
    ['no magic', new TextEncoder().encode('PNG not npy at all'), /numpy\.save/],
    ['fortran order', npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", new Uint8Array(4)), /ascontiguousarray/],
    ['a string dtype', npy("{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(12)), /float32/],
    ['an object dtype', npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)), /float32/],
    ['cut short', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", new Uint8Array(8)), /cut short/],
    ['no shape', npy("{'descr': '<f4', 'fortran_order': False, }", new Uint8Array(4)), /descr, fortran_order and shape/],
    ['version 9', npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4), 9), /version 9/],
  ];
  for (const [name, bytes, message] of refusals) {
    assert.throws(() => readNpy(bytes), (error) => isVisionopsError(error) && error.code === 'INVALID_REQUEST' && message.test(error.message), name);
  }
  assert.throws(() => writeNpy(new Float32Array(5), [2, 3]), /holds 6 values, not 5/);
});
