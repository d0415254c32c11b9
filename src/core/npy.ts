import { VisionopsError } from './errors.js';

/**
 * NumPy's .npy format (numpy.lib.format), versions 1.0 to 3.0: the magic string, a little-endian
 * header length, a Python dict literal giving dtype, order and shape, then the C-order data.
 * Reference tensors saved with np.save by training code are read here, so no Python is needed to
 * compare against them.
 */
export interface NpyArray {
  shape: number[];
  /** The file's dtype as numpy wrote it (`<f4`, `<f8`, `|u1`, ...). */
  dtype: string;
  /** The values as float32, whatever the file's dtype. */
  data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** numpy aligns the data to 64 bytes so it can be memory-mapped. */
const ALIGNMENT = 64;

type Reader = (view: DataView, offset: number, littleEndian: boolean) => number;
const READERS: Record<string, { size: number; read: Reader }> = {
  f4: { size: 4, read: (view, offset, little) => view.getFloat32(offset, little) },
  f8: { size: 8, read: (view, offset, little) => view.getFloat64(offset, little) },
  u1: { size: 1, read: (view, offset) => view.getUint8(offset) },
  i1: { size: 1, read: (view, offset) => view.getInt8(offset) },
  u2: { size: 2, read: (view, offset, little) => view.getUint16(offset, little) },
  i2: { size: 2, read: (view, offset, little) => view.getInt16(offset, little) },
  i4: { size: 4, read: (view, offset, little) => view.getInt32(offset, little) },
};

function invalid(message: string, details?: Record<string, unknown>): VisionopsError {
  return new VisionopsError('INVALID_REQUEST', message, details);
}

function parseHeader(header: string): { dtype: string; fortranOrder: boolean; shape: number[] } {
  const dtype = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (dtype === undefined || fortran === undefined || shapeText === undefined) {
    throw invalid(`The .npy header is not numpy's dict of descr, fortran_order and shape: ${header.trim()}. Save the array with numpy.save.`);
  }
  const shape = shapeText
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
    .map(Number);
  if (shape.some((side) => !Number.isInteger(side) || side < 0)) throw invalid(`The .npy shape (${shapeText}) is not a tuple of sizes.`);
  return { dtype, fortranOrder: fortran === 'True', shape };
}

/**
 * Reads a .npy file of numbers in C order into float32.
 *
 * @example readNpy(bytes) // { shape: [3, 224, 224], dtype: '<f4', data: Float32Array(150528) }
 */
export function readNpy(bytes: Uint8Array): NpyArray {
  if (bytes.length < 10 || MAGIC.some((byte, i) => bytes[i] !== byte)) {
    throw invalid('This is not a .npy file (no \\x93NUMPY magic): save the reference with numpy.save(path, array).');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  if (major < 1 || major > 3) throw invalid(`The .npy format version ${major}.${bytes[7]} is unknown; numpy writes 1.0 to 3.0.`);
  const lengthSize = major === 1 ? 2 : 4;
  const headerLength = lengthSize === 2 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lengthSize + headerLength;
  if (dataStart > bytes.length) throw invalid('The .npy file ends inside its header: it was cut short.');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(8 + lengthSize, dataStart));
  const { dtype, fortranOrder, shape } = parseHeader(header);
  if (fortranOrder) throw invalid('The .npy array is in Fortran order: save numpy.ascontiguousarray(array) instead.');
  const match = /^([<>|=])([a-z]\d+)$/.exec(dtype);
  const reader = match === null ? undefined : READERS[match[2]];
  if (match === null || reader === undefined) {
    throw invalid(`The .npy dtype ${dtype} is not a plain number type: save the tensor as float32 (array.astype(numpy.float32)).`, { dtype });
  }
  const count = shape.reduce((product, side) => product * side, 1);
  if (dataStart + count * reader.size > bytes.length) {
    throw invalid(`The .npy file holds fewer values than its shape (${shape.join(', ')}) needs: it was cut short.`, { shape });
  }
  const littleEndian = match[1] !== '>';
  const data = new Float32Array(count);
  for (let i = 0, offset = dataStart; i < count; i++, offset += reader.size) data[i] = reader.read(view, offset, littleEndian);
  return { shape, dtype, data };
}

/**
 * A float32 array in C order as a .npy file: version 1.0, or 2.0 when the header outgrows 1.0's
 * 16-bit length (a shape with thousands of dimensions).
 */
export function writeNpy(data: Float32Array, shape: number[]): Uint8Array {
  const count = shape.reduce((product, side) => product * side, 1);
  if (count !== data.length) {
    throw new VisionopsError('INTERNAL', `A shape of (${shape.join(', ')}) holds ${count} values, not ${data.length}.`, { shape, length: data.length });
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const major = dict.length + 1 + 10 > 0xffff ? 2 : 1;
  const preamble = major === 1 ? 10 : 12;
  const headerLength = Math.ceil((preamble + dict.length + 1) / ALIGNMENT) * ALIGNMENT - preamble;
  const header = dict.padEnd(headerLength - 1, ' ') + '\n';
  const out = new Uint8Array(preamble + headerLength + data.length * 4);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  if (major === 1) view.setUint16(8, headerLength, true);
  else view.setUint32(8, headerLength, true);
  for (let i = 0; i < header.length; i++) out[preamble + i] = header.charCodeAt(i);
  for (let i = 0, offset = preamble + headerLength; i < data.length; i++, offset += 4) view.setFloat32(offset, data[i], true);
  return out;
}
