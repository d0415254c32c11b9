/**
 * Writes the detection example's model (examples/bright-squares/model.onnx): a small fixed ONNX
 * graph, written with the ONNX protobuf schema, that finds bright red and white squares and answers
 * in the YOLOv8 layout, [1, 4 + C, N]. It stands in for a user's Ultralytics export so that
 * decoding, NMS, letterboxing and boxes mapped back to the original pixels run end to end.
 *
 * The 64 x 64 input (RGB, 0..1) is averaged over 16 x 16 windows every 4 pixels (AveragePool),
 * giving 13 x 13 = 169 anchors. Per anchor, class "red" scores R - G and class "white" (G + B) / 2
 * (a 1 x 1 Conv, then Relu): a window lying exactly on a bright square scores 1, one shifted by a
 * stride 0.75 (suppressed by NMS: IoU 0.6), the letterbox's grey 114 about 0.45. Each anchor's box
 * is its window: centre (4j + 8, 4i + 8), 16 x 16 input pixels.
 *
 *     node --import tsx scripts/make-squares-detector.ts [out.onnx]
 *
 * The bytes are the same every run (test/own-detection.test.ts checks the committed file against them).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const INTS = onnx.AttributeProto.AttributeType.INTS;
const INT = onnx.AttributeProto.AttributeType.INT;

export const SQUARES_INPUT = 64;
export const SQUARES_WINDOW = 16;
export const SQUARES_STRIDE = 4;
export const SQUARES_LABELS = ['red', 'white'];
const CELLS = (SQUARES_INPUT - SQUARES_WINDOW) / SQUARES_STRIDE + 1;
const ANCHORS = CELLS * CELLS;

function floatTensor(name: string, dims: number[], values: number[]): onnxProto.onnx.ITensorProto {
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(Float32Array.from(values).buffer) };
}

/** Each anchor's window as centre x, centre y, width, height: [1, 4, N]. */
function anchorBoxes(): number[] {
  const rows: number[][] = [[], [], [], []];
  for (let i = 0; i < CELLS; i++) {
    for (let j = 0; j < CELLS; j++) {
      rows[0].push(j * SQUARES_STRIDE + SQUARES_WINDOW / 2);
      rows[1].push(i * SQUARES_STRIDE + SQUARES_WINDOW / 2);
      rows[2].push(SQUARES_WINDOW);
      rows[3].push(SQUARES_WINDOW);
    }
  }
  return rows.flat();
}

/**
 * The model's bytes. `scoreScale` multiplies the class weights: the example is 1; another scale
 * makes other weights with the same inputs and outputs (a retrained version, as the lifecycle
 * tests put one beside the example).
 */
export function squaresDetector({ scoreScale = 1 }: { scoreScale?: number } = {}): Uint8Array {
  const shape = new BigInt64Array([1n, BigInt(SQUARES_LABELS.length), BigInt(ANCHORS)]);
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'visionops scripts/make-squares-detector.ts',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'bright-squares',
      initializer: [
        floatTensor('class_weights', [SQUARES_LABELS.length, 3, 1, 1], [1, -1, 0, 0, 0.5, 0.5].map((w) => w * scoreScale)),
        floatTensor('anchor_boxes', [1, 4, ANCHORS], anchorBoxes()),
        { name: 'scores_shape', dims: [3], dataType: INT64, rawData: new Uint8Array(shape.buffer) },
      ],
      node: [
        {
          opType: 'AveragePool',
          name: 'windows',
          input: ['images'],
          output: ['pooled'],
          attribute: [
            { name: 'kernel_shape', type: INTS, ints: [SQUARES_WINDOW, SQUARES_WINDOW] },
            { name: 'strides', type: INTS, ints: [SQUARES_STRIDE, SQUARES_STRIDE] },
          ],
        },
        { opType: 'Conv', name: 'classes', input: ['pooled', 'class_weights'], output: ['class_maps'] },
        { opType: 'Relu', name: 'positive', input: ['class_maps'], output: ['class_scores'] },
        { opType: 'Reshape', name: 'flatten', input: ['class_scores', 'scores_shape'], output: ['scores'] },
        { opType: 'Concat', name: 'yolov8_layout', input: ['anchor_boxes', 'scores'], output: ['output0'], attribute: [{ name: 'axis', type: INT, i: 1 }] },
      ],
      input: [{ name: 'images', type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimValue: 1 }, { dimValue: 3 }, { dimValue: SQUARES_INPUT }, { dimValue: SQUARES_INPUT }] } } } }],
      output: [{ name: 'output0', type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimValue: 1 }, { dimValue: 4 + SQUARES_LABELS.length }, { dimValue: ANCHORS }] } } } }],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2] ?? fileURLToPath(new URL('../examples/bright-squares/model.onnx', import.meta.url));
  writeFileSync(out, squaresDetector());
  process.stdout.write(`wrote ${out}\n`);
}
