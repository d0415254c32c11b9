/**
 * An Open Inference Protocol v2 HTTP client written from the protocol's specification and its
 * binary tensor data extension, sending requests byte for byte as Triton's Python HTTP client
 * (tritonclient.http) does: the JSON inference header, then each binary input's bytes in order,
 * `Inference-Header-Content-Length` when binary data follows, and no Content-Type. It shares no
 * code with the server, so the two cannot agree by accident.
 */

export interface ClientInput {
  name: string;
  shape: number[];
  datatype: string;
  /** Values for JSON, or the raw bytes to send as binary data. */
  data: unknown[] | Uint8Array;
  parameters?: Record<string, unknown>;
}

export interface ClientOutput {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Record<string, unknown>;
  data?: unknown[];
  /** The output's bytes when the server sent it as binary data. */
  binary?: Uint8Array;
}

export interface ClientResponse {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
  outputs: ClientOutput[];
}

/** The elements of a BYTES tensor as binary data: each a 4-byte little-endian length, then its bytes. */
export function serializeBytes(elements: Uint8Array[]): Uint8Array {
  const parts: number[] = [];
  for (const element of elements) {
    const length = Buffer.alloc(4);
    length.writeUInt32LE(element.length);
    parts.push(...length, ...element);
  }
  return Uint8Array.from(parts);
}

export function deserializeBytes(bytes: Uint8Array): Buffer[] {
  const buffer = Buffer.from(bytes);
  const out: Buffer[] = [];
  for (let offset = 0; offset < buffer.length; ) {
    const length = buffer.readUInt32LE(offset);
    out.push(buffer.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return out;
}

/** The request body and headers as tritonclient builds them; `outputs` as InferRequestedOutput(name, binary_data). */
export function inferRequest(inputs: ClientInput[], options: { id?: string; outputs?: { name: string; binary: boolean }[] } = {}) {
  const request: Record<string, unknown> = {};
  if (options.id !== undefined) request.id = options.id;
  const chunks: Uint8Array[] = [];
  request.inputs = inputs.map((input) => {
    const entry: Record<string, unknown> = { name: input.name, shape: input.shape, datatype: input.datatype };
    if (input.data instanceof Uint8Array) {
      entry.parameters = { ...input.parameters, binary_data_size: input.data.length };
      chunks.push(input.data);
    } else {
      if (input.parameters !== undefined) entry.parameters = input.parameters;
      entry.data = input.data;
    }
    return entry;
  });
  if (options.outputs !== undefined) request.outputs = options.outputs.map((output) => ({ name: output.name, parameters: { binary_data: output.binary } }));
  else request.parameters = { binary_data_output: true };
  const json = Buffer.from(JSON.stringify(request));
  const headers: Record<string, string> = {};
  if (chunks.length > 0) headers['Inference-Header-Content-Length'] = String(json.length);
  return { body: Buffer.concat([json, ...chunks]), headers };
}

/** Splits a response into its JSON header and each binary output's bytes, as tritonclient's InferResult does. */
export async function readResponse(response: Response): Promise<ClientResponse> {
  const body = Buffer.from(await response.arrayBuffer());
  const headerLength = response.headers.get('inference-header-content-length');
  const jsonLength = headerLength === null ? body.length : Number(headerLength);
  const json = JSON.parse(body.subarray(0, jsonLength).toString('utf8')) as Record<string, unknown>;
  let offset = jsonLength;
  const outputs = ((json.outputs as ClientOutput[] | undefined) ?? []).map((output) => {
    const size = output.parameters?.binary_data_size;
    if (typeof size !== 'number') return output;
    const binary = body.subarray(offset, offset + size);
    offset += size;
    return { ...output, binary };
  });
  return { status: response.status, headers: response.headers, json, outputs };
}

export async function infer(base: string, model: string, body: Uint8Array, headers: Record<string, string>, version?: string): Promise<ClientResponse> {
  const url = `${base}/v2/models/${model}${version === undefined ? '' : `/versions/${version}`}/infer`;
  return readResponse(await fetch(url, { method: 'POST', body, headers }));
}

/** FP32 values of a binary output, little-endian. */
export function float32s(bytes: Uint8Array): Float32Array {
  const buffer = Buffer.from(bytes);
  return Float32Array.from({ length: buffer.length / 4 }, (_, i) => buffer.readFloatLE(i * 4));
}

export function float32Bytes(values: Float32Array): Uint8Array {
  const buffer = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => buffer.writeFloatLE(value, i * 4));
  return buffer;
}
