import { VisionopsError } from '../../core/errors.js';

/** The tensor datatypes of the Open Inference Protocol v2, spelled as the protocol spells them. */
export const OIP_DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const;
export type OipDatatype = (typeof OIP_DATATYPES)[number];

/** Values of one tensor, row-major: a typed array of the datatype's width, or one byte string per element (BYTES). FP16 keeps its raw bits. */
export type OipValues =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array
  | Uint8Array[];

/** A named tensor as it travels in an inference request or response. */
export interface OipTensor {
  name: string;
  datatype: OipDatatype;
  shape: number[];
  data: OipValues;
}

type NumericArray = Exclude<OipValues, Uint8Array[]>;
type NumericConstructor = { new (length: number): NumericArray; new (buffer: ArrayBuffer): NumericArray; BYTES_PER_ELEMENT: number };

const ARRAYS: Record<Exclude<OipDatatype, 'BYTES'>, NumericConstructor> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

export function isOipDatatype(value: unknown): value is OipDatatype {
  return typeof value === 'string' && (OIP_DATATYPES as readonly string[]).includes(value);
}

/** Elements a shape holds; the shape must be whole non-negative numbers. */
export function elementCount(shape: number[]): number {
  return shape.reduce((product, side) => product * side, 1);
}

function invalid(message: string, details?: Record<string, unknown>): VisionopsError {
  return new VisionopsError('INVALID_REQUEST', message, details);
}

/**
 * The values of a tensor sent as JSON (`data`, flat or nested, row-major) in the datatype's
 * array. Throws INVALID_REQUEST for a count that disagrees with the shape or a value the
 * datatype cannot hold.
 */
export function valuesFromJson(name: string, datatype: OipDatatype, shape: number[], data: unknown, base64 = false): OipValues {
  if (!Array.isArray(data)) throw invalid(`Input "${name}" has no "data" array: send its values row-major in "data", or as binary data with parameters.binary_data_size.`);
  const flat: unknown[] = data.flat(Infinity);
  const count = elementCount(shape);
  if (flat.length !== count) {
    throw invalid(`Input "${name}" holds ${flat.length} values but its shape [${shape.join(', ')}] needs ${count}: send shape and data that agree.`, { input: name, values: flat.length, shape });
  }
  if (datatype === 'BYTES') {
    return flat.map((value) => {
      if (typeof value !== 'string') throw invalid(`Input "${name}" is BYTES, so each value must be a JSON string, not ${JSON.stringify(value)}.`);
      return base64 ? decodeBase64(name, value) : new TextEncoder().encode(value);
    });
  }
  if (datatype === 'FP16') throw invalid(`Input "${name}" is FP16, which has no JSON form: send it as binary data (parameters.binary_data_size).`);
  const values = new ARRAYS[datatype](count);
  const integer = datatype !== 'FP32' && datatype !== 'FP64';
  flat.forEach((value, i) => {
    const number = datatype === 'BOOL' && typeof value === 'boolean' ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isFinite(number) || (integer && !Number.isSafeInteger(number))) {
      throw invalid(`Input "${name}" is ${datatype}, and ${JSON.stringify(value)} is not one: send ${datatype === 'BOOL' ? 'true or false' : integer ? 'whole numbers' : 'finite numbers'}.`, { input: name, index: i });
    }
    if (values instanceof BigInt64Array || values instanceof BigUint64Array) values[i] = BigInt(number);
    else values[i] = number;
    // A typed array wraps what it cannot hold: read back, the value differs.
    if (integer && Number(values[i]) !== number) throw invalid(`Input "${name}" holds ${number}, out of the range of ${datatype}.`, { input: name, index: i });
  });
  return values;
}

/** The values as JSON numbers, booleans or strings (BYTES as UTF-8 text), flat and row-major. */
export function valuesToJson(datatype: OipDatatype, data: OipValues): unknown[] {
  if (Array.isArray(data)) return data.map((bytes) => new TextDecoder().decode(bytes));
  if (datatype === 'BOOL') return Array.from(data as Uint8Array, (value) => value !== 0);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Array.from(data, (value) => Number(value));
  return Array.from(data as ArrayLike<number>);
}

/**
 * The values of a tensor sent as binary data (little-endian, row-major; BYTES as a 4-byte
 * little-endian length then the bytes, per element). Throws INVALID_REQUEST when the bytes do not
 * hold exactly the shape's elements.
 */
export function valuesFromBinary(name: string, datatype: OipDatatype, shape: number[], bytes: Uint8Array): OipValues {
  const count = elementCount(shape);
  if (datatype === 'BYTES') {
    const elements: Uint8Array[] = [];
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let offset = 0;
    while (offset < bytes.length) {
      if (offset + 4 > bytes.length) throw invalid(`Input "${name}": the binary data ends inside an element's 4-byte length.`, { input: name });
      const length = view.getUint32(offset, true);
      offset += 4;
      if (offset + length > bytes.length) throw invalid(`Input "${name}": an element declares ${length} bytes but only ${bytes.length - offset} follow.`, { input: name });
      elements.push(bytes.subarray(offset, offset + length));
      offset += length;
    }
    if (elements.length !== count) throw invalid(`Input "${name}" holds ${elements.length} BYTES elements but its shape [${shape.join(', ')}] needs ${count}.`, { input: name, shape });
    return elements;
  }
  const Array_ = ARRAYS[datatype];
  const expected = count * Array_.BYTES_PER_ELEMENT;
  if (bytes.length !== expected) {
    throw invalid(`Input "${name}" has ${bytes.length} bytes of binary data but ${datatype} of shape [${shape.join(', ')}] takes ${expected}.`, { input: name, bytes: bytes.length, expected });
  }
  // Copied to an aligned buffer of its own (a Node Buffer's slice would share the pool): the body's offsets need not be multiples of the width.
  return new Array_(new Uint8Array(bytes).buffer);
}

/** The values as binary data, the form `valuesFromBinary` reads. */
export function valuesToBinary(data: OipValues): Uint8Array {
  if (!Array.isArray(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.reduce((total, element) => total + 4 + element.length, 0));
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const element of data) {
    view.setUint32(offset, element.length, true);
    out.set(element, offset + 4);
    offset += 4 + element.length;
  }
  return out;
}

function decodeBase64(name: string, text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw invalid(`Input "${name}" says content_type "base64" but its value is not base64.`, { input: name });
  }
  const binary = atob(text);
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}
