import { VisionopsError } from '../../core/errors.js';
import { isOipDatatype, valuesFromBinary, valuesFromJson, valuesToBinary, valuesToJson, type OipTensor } from './tensor.js';

/** The header of the binary tensor data extension: the length of the JSON object that starts the body. */
export const HEADER_LENGTH = 'Inference-Header-Content-Length';

export type OipParameters = Record<string, unknown>;

/** An output the client asks for; `binary`: answered as binary data rather than JSON. */
export interface RequestedOutput {
  name: string;
  binary: boolean;
}

/** An inference request as the server reads it, or as the client writes it. */
export interface InferRequest {
  id?: string;
  parameters?: OipParameters;
  inputs: OipTensor[];
  /** Every output of the model when absent. */
  outputs?: RequestedOutput[];
  /** Outputs not named in `outputs` are answered as binary data (`parameters.binary_data_output`). */
  binaryOutputs: boolean;
}

export interface InferResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: OipParameters;
  outputs: OipTensor[];
}

/** A body on the wire: its bytes and the extension's header, null when it is JSON alone. */
export interface EncodedBody {
  body: Uint8Array;
  headerLength: number | null;
}

function invalid(message: string, details?: Record<string, unknown>): VisionopsError {
  return new VisionopsError('INVALID_REQUEST', message, details);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The JSON object and the binary data after it; `headerLength` from the Inference-Header-Content-Length header. */
function splitBody(body: Uint8Array, headerLength: number | null): { json: Record<string, unknown>; binary: Uint8Array } {
  const jsonBytes = headerLength === null ? body : body.subarray(0, headerLength);
  if (headerLength !== null && headerLength > body.length) {
    throw invalid(`${HEADER_LENGTH} says ${headerLength} bytes of JSON but the body has ${body.length}: send the whole body.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(jsonBytes));
  } catch (error) {
    throw invalid(`The inference header is not JSON (${(error as Error).message})${headerLength === null ? `: binary data after the JSON needs the ${HEADER_LENGTH} header` : ''}.`);
  }
  if (!isObject(json)) throw invalid('The inference header must be a JSON object.');
  return { json, binary: headerLength === null ? new Uint8Array(0) : body.subarray(headerLength) };
}

/** Reads `$request_input`s or `$response_output`s: JSON `data`, or `binary_data_size` bytes taken in order from `binary`. */
function readTensors(list: unknown, binary: Uint8Array, what: 'input' | 'output'): OipTensor[] {
  if (!Array.isArray(list)) throw invalid(`The ${what}s must be a JSON array of tensors {name, shape, datatype, data}.`);
  let offset = 0;
  const tensors = list.map((entry, index): OipTensor => {
    if (!isObject(entry) || typeof entry.name !== 'string' || entry.name === '') throw invalid(`${what} ${index} needs a "name".`);
    const { name, datatype, shape } = entry;
    if (!isOipDatatype(datatype)) throw invalid(`${what} "${name}" has datatype ${JSON.stringify(datatype)}: use one of the protocol's (FP32, INT64, BYTES, ...).`, { [what]: name });
    if (!Array.isArray(shape) || !shape.every((side) => Number.isSafeInteger(side) && (side as number) >= 0)) {
      throw invalid(`${what} "${name}" needs a "shape" of whole non-negative numbers, not ${JSON.stringify(shape)}.`, { [what]: name });
    }
    const parameters = isObject(entry.parameters) ? entry.parameters : {};
    const size = parameters.binary_data_size;
    if (size === undefined) {
      return { name, datatype, shape: shape as number[], data: valuesFromJson(name, datatype, shape as number[], entry.data, parameters.content_type === 'base64') };
    }
    if (!Number.isSafeInteger(size) || (size as number) < 0) throw invalid(`${what} "${name}" has binary_data_size ${JSON.stringify(size)}: give a whole number of bytes.`);
    if (offset + (size as number) > binary.length) {
      throw invalid(`${what} "${name}" needs ${size as number} bytes of binary data but only ${binary.length - offset} remain: the body is truncated.`, { [what]: name });
    }
    const bytes = binary.subarray(offset, offset + (size as number));
    offset += size as number;
    return { name, datatype, shape: shape as number[], data: valuesFromBinary(name, datatype, shape as number[], bytes) };
  });
  if (offset !== binary.length) throw invalid(`${binary.length - offset} bytes of binary data follow the tensors that claim any: binary_data_size and the body disagree.`);
  return tensors;
}

/** Reads a POST .../infer body as the protocol and its binary data extension define it. Throws INVALID_REQUEST. */
export function decodeInferRequest(body: Uint8Array, headerLength: number | null): InferRequest {
  const { json, binary } = splitBody(body, headerLength);
  if (json.id !== undefined && typeof json.id !== 'string') throw invalid('The request "id" must be a string.');
  const parameters = isObject(json.parameters) ? json.parameters : undefined;
  let outputs: RequestedOutput[] | undefined;
  if (json.outputs !== undefined) {
    if (!Array.isArray(json.outputs)) throw invalid('"outputs" must be an array of {name, parameters}.');
    outputs = json.outputs.map((entry, index) => {
      if (!isObject(entry) || typeof entry.name !== 'string') throw invalid(`Requested output ${index} needs a "name".`);
      const binaryData = isObject(entry.parameters) ? entry.parameters.binary_data : undefined;
      return { name: entry.name, binary: binaryData === true || (binaryData === undefined && parameters?.binary_data_output === true) };
    });
  }
  return { id: json.id, parameters, inputs: readTensors(json.inputs, binary, 'input'), outputs, binaryOutputs: parameters?.binary_data_output === true };
}

/** Writes tensors as JSON entries, those in `binaryNames` as binary data appended in order. */
function writeTensors(tensors: OipTensor[], binaryNames: (name: string) => boolean): { entries: Record<string, unknown>[]; chunks: Uint8Array[] } {
  const chunks: Uint8Array[] = [];
  const entries = tensors.map((tensor) => {
    const head = { name: tensor.name, datatype: tensor.datatype, shape: tensor.shape };
    if (!binaryNames(tensor.name)) return { ...head, data: valuesToJson(tensor.datatype, tensor.data) };
    const bytes = valuesToBinary(tensor.data);
    chunks.push(bytes);
    return { ...head, parameters: { binary_data_size: bytes.length } };
  });
  return { entries, chunks };
}

function join(json: Record<string, unknown>, chunks: Uint8Array[]): EncodedBody {
  const head = new TextEncoder().encode(JSON.stringify(json));
  if (chunks.length === 0) return { body: head, headerLength: null };
  const body = new Uint8Array(head.length + chunks.reduce((total, chunk) => total + chunk.length, 0));
  body.set(head, 0);
  let offset = head.length;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return { body, headerLength: head.length };
}

/** A response body: each output as binary data when the request asked for it so. */
export function encodeInferResponse(response: InferResponse, request: Pick<InferRequest, 'outputs' | 'binaryOutputs'>): EncodedBody {
  const binary = (name: string) => request.outputs?.find((output) => output.name === name)?.binary ?? request.binaryOutputs;
  const { entries, chunks } = writeTensors(response.outputs, binary);
  return join({ ...response, outputs: entries }, chunks);
}

/** A request body as Triton's HTTP client writes it: inputs as binary data when `binaryInputs`, outputs asked for as binary data when `binaryOutputs`. */
export function encodeInferRequest(request: { id?: string; inputs: OipTensor[]; outputs?: string[]; binaryInputs: boolean; binaryOutputs: boolean }): EncodedBody {
  const { entries, chunks } = writeTensors(request.inputs, () => request.binaryInputs);
  const json: Record<string, unknown> = { ...(request.id === undefined ? {} : { id: request.id }), inputs: entries };
  if (request.outputs !== undefined) json.outputs = request.outputs.map((name) => ({ name, parameters: { binary_data: request.binaryOutputs } }));
  else if (request.binaryOutputs) json.parameters = { binary_data_output: true };
  return join(json, chunks);
}

/** Reads a response body written by `encodeInferResponse` or any OIP v2 server. Throws INVALID_REQUEST for a malformed one. */
export function decodeInferResponse(body: Uint8Array, headerLength: number | null): InferResponse {
  const { json, binary } = splitBody(body, headerLength);
  if (typeof json.model_name !== 'string') throw invalid('The inference response has no "model_name".');
  return {
    model_name: json.model_name,
    ...(typeof json.model_version === 'string' ? { model_version: json.model_version } : {}),
    ...(typeof json.id === 'string' ? { id: json.id } : {}),
    outputs: readTensors(json.outputs, binary, 'output'),
  };
}

/** The Inference-Header-Content-Length header's value, null without one. Throws INVALID_REQUEST for a value that is not a length. */
export function readHeaderLength(value: string | string[] | null | undefined): number | null {
  if (value === undefined || value === null) return null;
  const text = Array.isArray(value) ? value[0] : value;
  if (!/^\d+$/.test(text.trim())) throw invalid(`${HEADER_LENGTH} must be a whole number of bytes, not ${JSON.stringify(text)}.`);
  return Number(text.trim());
}
