import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeInferRequest, decodeInferResponse, encodeInferRequest, encodeInferResponse } from '../src/runtime/oip/messages.js';
import { valuesFromBinary, valuesFromJson, valuesToBinary, valuesToJson, type OipDatatype } from '../src/runtime/oip/tensor.js';

const CASES: [OipDatatype, unknown[]][] = [
  ['BOOL', [true, false, true]],
  ['UINT8', [0, 255, 7]],
  ['INT8', [-128, 127, 0]],
  ['UINT16', [65535, 1, 2]],
  ['INT16', [-32768, 32767, 5]],
  ['UINT32', [4294967295, 0, 9]],
  ['INT32', [-2147483648, 2147483647, -1]],
  ['INT64', [-9007199254740991, 9007199254740991, 0]],
  ['UINT64', [9007199254740991, 0, 1]],
  ['FP32', [0.5, -1.25, 3]],
  ['FP64', [0.1, -1e300, 2]],
  ['BYTES', ['a', 'héllo', '']],
];

test('every datatype round-trips through JSON and through binary data', () => {
  for (const [datatype, data] of CASES) {
    const values = valuesFromJson('t', datatype, [3], data);
    assert.deepEqual(valuesToJson(datatype, values), data, `${datatype} JSON`);
    const again = valuesFromBinary('t', datatype, [3], valuesToBinary(values));
    assert.deepEqual(valuesToJson(datatype, again), data, `${datatype} binary`);
  }
});

test('values a datatype cannot hold, and JSON FP16, are refused with INVALID_REQUEST', () => {
  for (const [datatype, value] of [['UINT8', 256], ['INT8', -129], ['UINT32', -1], ['UINT64', -1], ['INT32', 1.5], ['FP32', 'x'], ['BOOL', 'yes'], ['BYTES', 3]] as const) {
    assert.throws(() => valuesFromJson('t', datatype, [1], [value]), { code: 'INVALID_REQUEST' }, `${datatype} ${value}`);
  }
  assert.throws(() => valuesFromJson('t', 'FP16', [1], [1]), /binary/);
  assert.throws(() => valuesFromJson('t', 'FP32', [2, 2], [[1, 2], [3]]), /shape/);
  assert.deepEqual(Array.from(valuesFromJson('t', 'FP32', [2, 2], [[1, 2], [3, 4]]) as Float32Array), [1, 2, 3, 4], 'nested data is read row-major');
});

test('a request written for binary inputs and outputs reads back; its response holds what was sent', () => {
  const inputs = [
    { name: 'a', datatype: 'FP32' as const, shape: [1, 2], data: Float32Array.of(1.5, -2) },
    { name: 'b', datatype: 'BYTES' as const, shape: [2], data: [Uint8Array.of(1, 2, 3), Uint8Array.of()] },
  ];
  const { body, headerLength } = encodeInferRequest({ id: 'r1', inputs, binaryInputs: true, binaryOutputs: true });
  assert.ok(headerLength !== null && headerLength < body.length);
  const request = decodeInferRequest(body, headerLength);
  assert.equal(request.id, 'r1');
  assert.equal(request.binaryOutputs, true);
  assert.deepEqual(request.inputs, inputs);

  const response = encodeInferResponse({ model_name: 'm', id: 'r1', outputs: request.inputs }, { outputs: [{ name: 'a', binary: false }, { name: 'b', binary: true }], binaryOutputs: false });
  const decoded = decodeInferResponse(response.body, response.headerLength);
  assert.deepEqual(decoded.outputs, inputs);
  assert.throws(() => decodeInferRequest(body.subarray(0, body.length - 1), headerLength), /truncated/);
  assert.throws(() => decodeInferRequest(body, null), /not JSON/);
});
