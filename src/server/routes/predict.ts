import multipart from '@fastify/multipart';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Config } from '../../config/schema.js';
import { CROP_FIELD, deviceReadings, malformedJson, parseRegionsManifest, REGIONS_FIELD, REGIONS_PATH, tooManyRegions, type RegionLimits, type RegionsManifest, type TextRegions } from '../../core/edge/regions.js';
import { CAPTURE_POLICY_PATH, deploymentTakes } from '../../core/edge/policy.js';
import { EDGE_ROUTE_HEADER, parseEdgeRoute } from '../../core/edge/route.js';
import { isVisionopsError, VisionopsError } from '../../core/errors.js';
import { EDGE_SOURCE_FIELD } from '../../pipeline/edge-lineage.js';
import { ingestRegions, type RegionsUpload } from '../../image/regions.js';
import { deviceModels } from '../../runtime/builtin.js';
import { requestKey, type IdempotentService } from '../../pipeline/idempotency.js';
import { regionsNotRead } from '../../pipeline/runner.js';
import type { PredictionListener } from '../../pipeline/contract.js';
import type { PredictionServices } from '../../pipeline/service.js';
import type { PredictionRecord } from '../../core/records/prediction.js';
import { EventStream } from '../event-stream.js';
import { MAX_METADATA_BYTES } from '../header-limits.js';
import { ACCEPTED_UPLOADS, errorHandler, toHttpError } from '../http-errors.js';
import { clientGone } from '../overload.js';

export interface PredictOptions {
  config: Config;
  services: PredictionServices;
}

interface Upload {
  bytes: Uint8Array;
  contentType: string | undefined;
  filename: string | undefined;
  metadata: Record<string, unknown>;
}

/**
 * Room above `ingest.maxBytes` for multipart framing and the metadata field, so an image just over
 * the limit reaches ingest, which refuses it with the same code and a precise message.
 */
const ENVELOPE_BYTES = 1024 * 1024;
const METADATA_HEADER = 'X-Visionops-Metadata';
const IDEMPOTENCY_HEADER = 'Idempotency-Key';
const MAX_IDEMPOTENCY_KEY = 255;
const idempotencyKey = z
  .string()
  .min(1)
  .max(MAX_IDEMPOTENCY_KEY)
  .regex(/^[\x20-\x7e]+$/);

/**
 * `POST /v1/predict`: an image in, a decision with its reasons, result, lineage and timings out.
 * With `?stream=1` the answer is Server-Sent Events: `quality` (the gate's report), `boxes`, one
 * `line` per line as it is read, then `record` (the same body as without streaming), or `error`.
 * `?pipeline=NAME` chooses one of the configured pipelines (the first by default); a name not
 * configured is refused with UNKNOWN_PIPELINE before the body is read. With an `Idempotency-Key`
 * header, a retry is answered with the record the first request made (`Idempotent-Replayed: true`),
 * and concurrent requests with one key compute once. An edge client states where it ran what in
 * `X-Visionops-Edge` (src/core/edge/route.ts), kept in the record's `lineage.edge`.
 */
export const predictRoutes: FastifyPluginAsync<PredictOptions> = async (app, { config, services }) => {
  const bodyLimit = config.ingest.maxBytes + ENVELOPE_BYTES;
  app.setErrorHandler(errorHandler({ uploadMaxBytes: config.ingest.maxBytes }));

  // Only image uploads are parsed in this plugin: JSON or form posts are refused as UNSUPPORTED_FORMAT.
  app.removeAllContentTypeParsers();
  for (const type of [/^image\/[\w.+-]+\s*(;.*)?$/i, 'application/octet-stream']) {
    app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));
  }
  await app.register(multipart, {
    limits: { fileSize: config.ingest.maxBytes, files: 1, fields: 1, parts: 2, fieldSize: MAX_METADATA_BYTES },
  });

  // The pipeline is chosen before the body is read, so a wrong name costs no upload.
  const choose = async (request: FastifyRequest) => void services.get(pipelineOf(request));
  app.post('/v1/predict', { bodyLimit, config: { scope: 'predict' }, onRequest: choose }, async (request, reply) => {
    const service = services.get(pipelineOf(request));
    const key = readIdempotencyKey(request);
    const headerMetadata = readHeaderMetadata(request.headers[METADATA_HEADER.toLowerCase()]);
    const edge = parseEdgeRoute(request.headers[EDGE_ROUTE_HEADER.toLowerCase()]);
    if (edge?.device.includes('recognition')) {
      throw new VisionopsError('INVALID_REQUEST', `${EDGE_ROUTE_HEADER} states "recognition" on the device, but a page is read here: send the device's reading with its crops to ${REGIONS_PATH}, or leave "recognition" out.`, { problem: 'READING_WITHOUT_CROPS' });
    }
    if (edge !== undefined && !deploymentTakes(config.edge.policy, edge.sent)) {
      throw new VisionopsError(
        'POLICY_FORBIDS_ORIGINAL',
        `This deployment's edge policy is "${config.edge.policy}": it takes no originals from edge devices. Send a downscaled copy or the text regions (set the device's policy to "${config.edge.policy}"; the deployment's is at ${CAPTURE_POLICY_PATH}).`,
        { policy: config.edge.policy },
      );
    }
    const upload = request.isMultipart() ? await readMultipart(request, () => readParts(request)) : readRaw(request);
    const source = {
      channel: 'http',
      contentType: upload.contentType ?? null,
      filename: upload.filename ?? null,
      metadata: { ...headerMetadata, ...upload.metadata },
      ...(edge === undefined ? {} : { [EDGE_SOURCE_FIELD]: edge }),
      // Who is sending, when the client says: a canary is sticky by it (docs/lifecycle.md).
      ...sourceClient(request),
    };
    return answerPrediction(request, reply, service, upload.bytes, source, key);
  });

  /**
   * `POST /v1/predict/regions`: the text regions a device's detector found instead of the page
   * (src/core/edge/regions.ts): multipart, the JSON field "regions" and one file field "crop" per
   * region. The crops are put back on a page of the frame's size, which takes the same path as an
   * image (gate, decision, record, Idempotency-Key, streaming) except that the pipeline reads the
   * crops instead of detecting lines. Answered like POST /v1/predict. Under the `device` policy the
   * regions may carry the device's reading (docs/edge.md, "Reading on the device"): the record keeps
   * it as the result, the crops as its evidence, and the server recognises nothing again.
   */
  app.post(REGIONS_PATH, { bodyLimit, config: { scope: 'predict' }, onRequest: choose }, async (request, reply) => {
    const service = services.get(pipelineOf(request));
    if (service.pipeline.readRegions === undefined) throw regionsNotRead(service.pipeline.name);
    const key = readIdempotencyKey(request);
    const headerMetadata = readHeaderMetadata(request.headers[METADATA_HEADER.toLowerCase()]);
    const edge = parseEdgeRoute(request.headers[EDGE_ROUTE_HEADER.toLowerCase()]);
    if (edge !== undefined && edge.sent !== 'crops') {
      throw new VisionopsError('INVALID_REQUEST', `A regions upload states "sent": "crops" in ${EDGE_ROUTE_HEADER}, not "${edge.sent}".`);
    }
    if (!request.isMultipart()) {
      throw new VisionopsError('UNSUPPORTED_FORMAT', `Send regions as multipart/form-data: ${REGIONS_UPLOAD}.`);
    }
    const upload = await readMultipart(request, () => readRegionParts(request, { ...config.edge.regions, maxFramePixels: config.ingest.maxPixels }));
    const readings = deviceReadings(upload.manifest, edge, await deviceModels());
    const page = await ingestRegions(upload, config.ingest, config.edge.regions, readings);
    const source = {
      channel: 'http',
      contentType: 'image/png',
      filename: null,
      metadata: { ...headerMetadata, ...upload.metadata },
      regions: { crops: upload.crops.length, bytes: upload.crops.reduce((total, crop) => total + crop.length, 0), frame: upload.manifest.frame },
      ...(edge === undefined ? {} : { [EDGE_SOURCE_FIELD]: edge }),
      ...sourceClient(request),
    };
    return answerPrediction(request, reply, service, page.bytes, source, key, page.regions);
  });
};

/** A prediction answered as JSON, or, with `?stream=1`, as Server-Sent Events ending in `record` (or `error`). */
async function answerPrediction(request: FastifyRequest, reply: FastifyReply, service: IdempotentService, bytes: Uint8Array, source: Record<string, unknown>, key: string | null, regions?: TextRegions) {
  const gone = clientGone(reply);
  if (!wantsStream(request)) {
    const record = await predictOnce(service, bytes, source, key, reply, {}, gone, regions);
    request.log.info({ prediction: record.id, decision: record.decision, totalMs: record.timings.total }, 'prediction recorded');
    return toAnswer(record);
  }

  const stream = new EventStream(reply);
  try {
    const record = await predictOnce(service, bytes, source, key, reply, {
      quality: (quality) => stream.send('quality', { verdict: quality.verdict, checks: quality.checks, guidance: quality.guidance }),
      boxes: (boxes, rotation) => stream.send('boxes', { boxes, rotation }),
      line: (index, line) => stream.send('line', { index, ...line }),
    }, gone, regions);
    request.log.info({ prediction: record.id, decision: record.decision, totalMs: record.timings.total, stream: true }, 'prediction recorded');
    stream.send('record', toAnswer(record));
  } catch (error) {
    if (!stream.opened) throw error;
    const { status, body } = toHttpError(error);
    if (status >= 500) request.log.error({ err: error }, 'streamed prediction failed');
    stream.send('error', { status, ...body });
  }
  stream.end();
  return reply;
}

/**
 * A prediction, once per key when the request carries one. A replay is marked with
 * `Idempotent-Replayed: true` before anything is sent; its listener hears nothing, so a replayed
 * stream sends the `record` event alone.
 */
async function predictOnce(service: IdempotentService, bytes: Uint8Array, source: Record<string, unknown>, key: string | null, reply: FastifyReply, listener: PredictionListener, signal: AbortSignal, regions?: TextRegions) {
  if (key === null) return service.predict(bytes, source, listener, { signal, regions });
  const { record, replayed } = await service.predictOnce(bytes, source, key, listener, signal, regions);
  if (replayed) reply.header('Idempotent-Replayed', 'true');
  return record;
}

/** The request's Idempotency-Key, scoped by its principal, or null without one; a malformed key is INVALID_REQUEST. */
function readIdempotencyKey(request: FastifyRequest): string | null {
  const raw = request.headers[IDEMPOTENCY_HEADER.toLowerCase()];
  if (raw === undefined) return null;
  const parsed = idempotencyKey.safeParse(raw);
  if (!parsed.success) {
    throw new VisionopsError(
      'INVALID_REQUEST',
      `Send one ${IDEMPOTENCY_HEADER} of 1 to ${MAX_IDEMPOTENCY_KEY} printable ASCII characters (a UUID is a good choice), the same one only when retrying the same request.`,
    );
  }
  return requestKey(request.principal.id, parsed.data);
}

function pipelineOf(request: FastifyRequest): string | undefined {
  const value = (request.query as Record<string, unknown> | undefined)?.pipeline;
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new VisionopsError('INVALID_REQUEST', 'Give ?pipeline= once, naming one configured pipeline.');
  return value;
}

function wantsStream(request: FastifyRequest): boolean {
  const value = (request.query as Record<string, unknown> | undefined)?.stream;
  return value === '1' || value === 'true';
}

/** What a client needs at once; GET /v1/predictions/:id returns the whole record. The OIP pipeline models answer it too. */
export function toAnswer(record: PredictionRecord) {
  return {
    id: record.id,
    decision: record.decision,
    reasons: record.reasons,
    quality: { verdict: record.quality.verdict, checks: record.quality.checks, guidance: record.quality.guidance },
    result: record.result,
    lineage: record.lineage,
    timings: record.timings,
    cache: record.lineage.cache === undefined ? null : { hit: record.lineage.cache.hit, of: record.lineage.cache.of },
  };
}

function readRaw(request: FastifyRequest): Upload {
  const body = request.body;
  return {
    bytes: body instanceof Uint8Array ? body : new Uint8Array(0),
    contentType: request.headers['content-type'],
    filename: undefined,
    metadata: {},
  };
}

/**
 * The multipart body, its framing errors answered as the client's: busboy throws plain errors
 * (no boundary, a body cut short) that would otherwise answer 500. @fastify/multipart's own limit
 * errors keep their codes for the one error map.
 */
async function readMultipart<T>(request: FastifyRequest, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (isVisionopsError(error) || typeof (error as { code?: unknown }).code === 'string') throw error;
    throw new VisionopsError(
      'INVALID_REQUEST',
      `The multipart body cannot be read (${(error as Error).message}): give the Content-Type its boundary and send the whole body; ${ACCEPTED_UPLOADS}.`,
      undefined,
      { cause: error },
    );
  }
}

/** The multipart field "metadata": JSON of at most MAX_METADATA_BYTES. */
function metadataField(part: { value: unknown; valueTruncated: boolean }): Record<string, unknown> {
  if (part.valueTruncated) {
    throw new VisionopsError('INVALID_METADATA', `The multipart field "metadata" is longer than ${MAX_METADATA_BYTES} bytes: send less metadata.`);
  }
  return parseMetadata(String(part.value), 'the multipart field "metadata"');
}

async function readParts(request: FastifyRequest): Promise<Upload> {
  let image: Omit<Upload, 'metadata'> | undefined;
  let metadata: Record<string, unknown> = {};
  for await (const part of request.parts()) {
    if (part.type === 'file' && part.fieldname === 'image') {
      image = { bytes: await part.toBuffer(), contentType: part.mimetype, filename: part.filename };
    } else if (part.type === 'field' && part.fieldname === 'metadata') {
      metadata = metadataField(part);
    } else {
      if (part.type === 'file') part.file.resume();
      throw new VisionopsError(
        'INVALID_REQUEST',
        `Unexpected multipart ${part.type} "${part.fieldname}": send the image as the file field "image" and optional JSON in the field "metadata".`,
      );
    }
  }
  if (image === undefined) {
    throw new VisionopsError('INVALID_REQUEST', `The multipart body has no file field "image": ${ACCEPTED_UPLOADS}.`);
  }
  return { ...image, metadata };
}

const REGIONS_UPLOAD = `the JSON field "${REGIONS_FIELD}" ({"frame": {"width", "height"}, "regions": [{"quad": [[x, y] x 4]}]}) and one file field "${CROP_FIELD}" per region, in its order, and optional JSON in the field "metadata"`;

/**
 * The parts of a regions upload: the manifest (held to its limits as soon as it arrives), the
 * crops in order, the metadata. More crops than `maxCrops` are refused as they arrive, before they are read.
 */
async function readRegionParts(request: FastifyRequest, limits: RegionLimits): Promise<RegionsUpload & { metadata: Record<string, unknown> }> {
  let manifest: RegionsManifest | undefined;
  let metadata: Record<string, unknown> = {};
  const crops: Uint8Array[] = [];
  const { maxCrops } = limits;
  const parts = request.parts({ limits: { files: maxCrops + 1, parts: maxCrops + 3, fields: 2, fieldSize: MAX_METADATA_BYTES } });
  for await (const part of jsonFieldsChecked(parts)) {
    if (part.type === 'file' && part.fieldname === CROP_FIELD) {
      if (crops.length === maxCrops) {
        part.file.resume();
        tooManyRegions(crops.length + 1, maxCrops);
      }
      crops.push(await part.toBuffer());
    } else if (part.type === 'field' && part.fieldname === REGIONS_FIELD && manifest === undefined) {
      if (part.valueTruncated) {
        throw new VisionopsError('INVALID_REGIONS', `The field "${REGIONS_FIELD}" is longer than ${MAX_METADATA_BYTES} bytes: send fewer regions.`, { problem: 'MALFORMED_REGIONS' });
      }
      manifest = parseRegionsManifest(part.value, limits);
    } else if (part.type === 'field' && part.fieldname === 'metadata') {
      metadata = metadataField(part);
    } else {
      if (part.type === 'file') part.file.resume();
      throw new VisionopsError('INVALID_REGIONS', `Unexpected multipart ${part.type} "${part.fieldname}": send ${REGIONS_UPLOAD}.`, { problem: 'MALFORMED_REGIONS' });
    }
  }
  if (manifest === undefined) {
    throw new VisionopsError('INVALID_REGIONS', `The multipart body has no field "${REGIONS_FIELD}": send ${REGIONS_UPLOAD}.`, { problem: 'MALFORMED_REGIONS' });
  }
  return { manifest, crops, metadata };
}

/** The parts, a field declared application/json that does not parse (@fastify/multipart's own error) refused as a malformed manifest. */
async function* jsonFieldsChecked<T>(parts: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* parts;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'FST_INVALID_JSON_FIELD_ERROR') malformedJson('a field declared application/json does not parse');
    throw error;
  }
}

/** The metadata header, held to the same 64 KiB as the multipart field (the server takes 80 KiB of headers in all). */
function readHeaderMetadata(raw: string | string[] | undefined): Record<string, unknown> {
  // Header values arrive as Latin-1, one character a byte.
  if (typeof raw === 'string' && raw.length > MAX_METADATA_BYTES) {
    throw new VisionopsError('INVALID_METADATA', `The ${METADATA_HEADER} header is longer than ${MAX_METADATA_BYTES} bytes: send less metadata.`);
  }
  return parseMetadata(raw, `the ${METADATA_HEADER} header`);
}

/** Metadata a client attaches (device, operator, capture time...): a JSON object, kept as sent. */
function parseMetadata(raw: string | string[] | undefined, where: string): Record<string, unknown> {
  if (raw === undefined) return {};
  if (Array.isArray(raw)) throw new VisionopsError('INVALID_METADATA', `Send ${where} once, holding one JSON object.`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new VisionopsError('INVALID_METADATA', `${capitalize(where)} is not valid JSON (${(error as Error).message}): send a JSON object such as {"device": "scanner-3"}.`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new VisionopsError('INVALID_METADATA', `${capitalize(where)} must be a JSON object such as {"device": "scanner-3"}, not ${JSON.stringify(value)}.`);
  }
  return value as Record<string, unknown>;
}

function capitalize(text: string): string {
  return text[0].toUpperCase() + text.slice(1);
}

/** The X-Visionops-Source header as the record's `source.client`, when given: at most 200 characters. */
function sourceClient(request: FastifyRequest): { client?: string } {
  const value = request.headers['x-visionops-source'];
  if (typeof value !== 'string' || value === '') return {};
  if (value.length > 200) throw new VisionopsError('INVALID_METADATA', 'X-Visionops-Source is longer than 200 characters: send a short client name.');
  return { client: value };
}
