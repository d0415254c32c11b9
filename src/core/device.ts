/**
 * The core as a device runs it: the entry the capture page and the parity test bundle for the
 * browser. Every function here is the server's own (no copy), so the edge and the cloud judge and
 * preprocess a frame alike; test/edge-parity.test.ts holds them to identical answers.
 */
export { toGray, type Frame, type GrayFrame } from './frame.js';
export { runQualityGate } from './quality/gate.js';
export { qualityKernels } from './quality/wasm/kernels.js';
export { qualityConfigSchema, type QualityConfig } from './quality/config.js';
export type { QualityReport, QualityCheck } from './quality/types.js';
export { preprocessSpecSchema, type PreprocessSpec } from './preprocess/spec.js';
export { toTensor } from './preprocess/tensor.js';
export { resizeWith } from './preprocess/interpolation.js';
export { preprocessHash, sha256Hex } from './preprocess/hash.js';
export { perceptualHash, hammingDistance } from './hash/perceptual.js';
export { CAPTURE_POLICY_PATH, linkPolicy, POLICY_PLANS, DOWNSCALED_LONG_SIDE, sentWithoutDetector, type CapturePolicyAnswer, type DeviceStage, type EdgePolicy, type Sent } from './edge/policy.js';
export { CROP_FIELD, cutRegions, DEVICE_DETECTION_SIDE, findTextRegions, REGIONS_FIELD, REGIONS_PATH, type DetectorRun, type RegionsManifest } from './edge/regions.js';
export type { Quad } from './postprocess/geometry.js';
export { DEVICE_LEXICON_PATH, DEVICE_MODELS_PATH, EDGE_ROUTE_HEADER, type DeviceModel, type DeviceModelsAnswer, type DeviceReadingSettings, type EdgeRoute } from './edge/route.js';
export { backoffDelay, DEFAULT_BACKOFF, worthRetrying } from './edge/backoff.js';
export { DETECTION_POSTPROCESS, DETECTION_PREPROCESS, ORIENTATION_PREPROCESS, RECOGNITION_POSTPROCESS, RECOGNITION_PREPROCESS } from './preprocess/builtin-specs.js';
export { keptReading, readCrops, type LineReading, type LineReader, type RecognizerRun } from './postprocess/recognition.js';
export { groupRows } from './postprocess/rows.js';
export { readLinesOnDevice, type DeviceLines } from './edge/device-reading.js';
export type { Spelling } from './text/spelling.js';
export { extractTextBoxes, sortReadingOrder, type DetectedBox } from './postprocess/db.js';
export { cropQuad } from './preprocess/crop.js';
