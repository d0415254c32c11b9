import { VisionopsError } from '../errors.js';
import type { Placement } from '../preprocess/placement.js';
import { nonMaxSuppression, type Box, type Detection } from './nms.js';

/** An output tensor as onnxruntime hands it over: values in C order and their dimensions. */
export interface OutputTensor {
  data: ArrayLike<number>;
  dims: readonly number[];
}

export interface DetectionOptions {
  /** One label per class, in the model's class order. */
  labels: string[];
  /** Candidates scoring at or below this are dropped before NMS (Ultralytics' `conf`). */
  scoreThreshold: number;
  /** Same-class boxes overlapping a better one by more than this are suppressed (Ultralytics' `iou`). */
  iouThreshold: number;
  /** Ultralytics' max_det: 300 by default. */
  maxDetections?: number;
}

const DEFAULT_MAX_DETECTIONS = 300;

function shapeError(model: string, dims: readonly number[], expected: string, labels: number): VisionopsError {
  return new VisionopsError(
    'INFERENCE_FAILED',
    `The ${model} output has shape [${dims.join(', ')}], not ${expected} for ${labels} labels: check the decoder and that the labels list every class of the model.`,
    { dims: [...dims], labels },
  );
}

function centreToCorners(cx: number, cy: number, w: number, h: number): Box {
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
}

/** The best class of one candidate among `classes` scores read by `scoreOf`; the first wins a tie. */
function bestClass(classes: number, scoreOf: (c: number) => number): { classIndex: number; score: number } {
  let classIndex = 0;
  let score = scoreOf(0);
  for (let c = 1; c < classes; c++) {
    const s = scoreOf(c);
    if (s > score) {
      score = s;
      classIndex = c;
    }
  }
  return { classIndex, score };
}

function finish(candidates: Detection[], options: DetectionOptions): Detection[] {
  return nonMaxSuppression(candidates, options.iouThreshold, options.maxDetections ?? DEFAULT_MAX_DETECTIONS);
}

/**
 * YOLOv5's export: [1, N, 5 + C], each row centre x, centre y, width, height (input pixels), the
 * objectness, then C class probabilities. As its non_max_suppression: rows with objectness at or
 * below the threshold go, a class's score is objectness times its probability, the best class
 * must beat the threshold, then class-aware NMS.
 */
export function decodeYoloV5(output: OutputTensor, options: DetectionOptions): Detection[] {
  const classes = options.labels.length;
  const { data, dims } = output;
  const stride = 5 + classes;
  if (dims.length !== 3 || dims[0] !== 1 || dims[2] !== stride) throw shapeError('YOLOv5', dims, `[1, N, ${stride}]`, classes);
  const candidates: Detection[] = [];
  for (let row = 0, p = 0; row < dims[1]; row++, p += stride) {
    const objectness = data[p + 4];
    if (!(objectness > options.scoreThreshold)) continue;
    const { classIndex, score } = bestClass(classes, (c) => data[p + 5 + c] * objectness);
    if (!(score > options.scoreThreshold)) continue;
    candidates.push({ label: options.labels[classIndex], classIndex, score, box: centreToCorners(data[p], data[p + 1], data[p + 2], data[p + 3]) });
  }
  return finish(candidates, options);
}

/**
 * YOLOv8 and YOLO11 exports: [1, 4 + C, N], per anchor centre x, centre y, width, height (input
 * pixels) then C class scores, no objectness. [1, N, 4 + C] (a transposed export) is read too
 * when the shape says so unambiguously.
 */
export function decodeYoloV8(output: OutputTensor, options: DetectionOptions): Detection[] {
  const classes = options.labels.length;
  const { data, dims } = output;
  const features = 4 + classes;
  if (dims.length !== 3 || dims[0] !== 1 || (dims[1] !== features && dims[2] !== features)) {
    throw shapeError('YOLOv8', dims, `[1, ${features}, N]`, classes);
  }
  const anchorsLast = dims[1] === features;
  const anchors = anchorsLast ? dims[2] : dims[1];
  // Feature f of anchor a sits at f * anchors + a (anchors last) or a * features + f (transposed).
  const featureStride = anchorsLast ? anchors : 1;
  const anchorStride = anchorsLast ? 1 : features;
  const candidates: Detection[] = [];
  for (let a = 0; a < anchors; a++) {
    const base = a * anchorStride;
    const { classIndex, score } = bestClass(classes, (c) => data[base + (4 + c) * featureStride]);
    if (!(score > options.scoreThreshold)) continue;
    const at = (f: number) => data[base + f * featureStride];
    candidates.push({ label: options.labels[classIndex], classIndex, score, box: centreToCorners(at(0), at(1), at(2), at(3)) });
  }
  return finish(candidates, options);
}

/** The order of a generic detector's four box numbers. */
export type BoxFormat = 'xyxy' | 'xywh' | 'cxcywh' | 'yxyx';

export interface GenericLayout {
  boxFormat: BoxFormat;
  /**
   * Box numbers in 0..1 of the input's width and height (TensorFlow's object detection API) rather
   * than input pixels; `inputSize` gives the pixels.
   */
  normalized?: { width: number; height: number };
}

function toCorners(a: number, b: number, c: number, d: number, layout: GenericLayout): Box {
  const box: Box =
    layout.boxFormat === 'xyxy' ? [a, b, c, d] : layout.boxFormat === 'xywh' ? [a, b, a + c, b + d] : layout.boxFormat === 'yxyx' ? [b, a, d, c] : centreToCorners(a, b, c, d);
  if (layout.normalized === undefined) return box;
  const { width, height } = layout.normalized;
  return [box[0] * width, box[1] * height, box[2] * width, box[3] * height];
}

/**
 * Detectors with separate outputs (torchvision's, TensorFlow's, many exported with NMS removed):
 * `boxes` [1, N, 4] or [N, 4]; `scores` one per box ([1, N]) with `classes` giving each box's
 * class, or one per box and class ([1, N, C]) without it. Shapes are told apart by their sizes,
 * so any batch dimension of one is accepted.
 */
export function decodeBoxesScoresClasses(
  outputs: { boxes: OutputTensor; scores: OutputTensor; classes?: OutputTensor },
  layout: GenericLayout,
  options: DetectionOptions,
): Detection[] {
  const classes = options.labels.length;
  const { boxes, scores } = outputs;
  const count = boxes.data.length / 4;
  if (boxes.dims[boxes.dims.length - 1] !== 4 || !Number.isInteger(count)) throw shapeError('boxes', boxes.dims, '[1, N, 4]', classes);
  const perClass = scores.data.length === count * classes && (classes > 1 || outputs.classes === undefined);
  if (!perClass && scores.data.length !== count) {
    throw shapeError('scores', scores.dims, `[1, ${count}] or [1, ${count}, ${classes}]`, classes);
  }
  if (!perClass && outputs.classes === undefined) {
    throw new VisionopsError('INFERENCE_FAILED', `The scores have one value per box but there is no classes output for ${classes} labels: name the model's classes output, or list one label.`, { labels: classes });
  }
  if (outputs.classes !== undefined && outputs.classes.data.length !== count) throw shapeError('classes', outputs.classes.dims, `[1, ${count}]`, classes);
  const candidates: Detection[] = [];
  for (let i = 0; i < count; i++) {
    const best = perClass ? bestClass(classes, (c) => scores.data[i * classes + c]) : { classIndex: Math.round((outputs.classes as OutputTensor).data[i]), score: scores.data[i] };
    if (!(best.score > options.scoreThreshold)) continue;
    if (best.classIndex < 0 || best.classIndex >= classes) {
      throw new VisionopsError('INFERENCE_FAILED', `The model gave class ${best.classIndex} but only ${classes} labels are listed: list every class of the model, in its order.`, { classIndex: best.classIndex, labels: classes });
    }
    const p = i * 4;
    const box = toCorners(boxes.data[p], boxes.data[p + 1], boxes.data[p + 2], boxes.data[p + 3], layout);
    candidates.push({ label: options.labels[best.classIndex], classIndex: best.classIndex, score: best.score, box });
  }
  return finish(candidates, options);
}

/**
 * A box in tensor pixels mapped back to the original frame through the preprocessing's placement
 * (Ultralytics' scale_boxes: the letterbox's padding taken off, divided by its ratio), then
 * clipped to the frame.
 */
export function boxToFrame(box: Box, placement: Placement, frameWidth: number, frameHeight: number): Box {
  const x = (value: number) => Math.min(Math.max((value - placement.offsetX) / placement.scaleX, 0), frameWidth);
  const y = (value: number) => Math.min(Math.max((value - placement.offsetY) / placement.scaleY, 0), frameHeight);
  return [x(box[0]), y(box[1]), x(box[2]), y(box[3])];
}

/** Every detection's box mapped back to the original frame (see `boxToFrame`). */
export function detectionsToFrame(detections: Detection[], placement: Placement, frameWidth: number, frameHeight: number): Detection[] {
  return detections.map((detection) => ({ ...detection, box: boxToFrame(detection.box, placement, frameWidth, frameHeight) }));
}
