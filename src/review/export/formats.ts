import type { Quad } from '../../core/postprocess/geometry.js';
import { cropQuad } from '../../core/preprocess/crop.js';
import type { IngestConfig } from '../../image/config.js';
import { encodePng, renderFrame } from '../../image/render.js';
import type { DatasetItem } from './dataset.js';
import type { DatasetWriter } from './writer.js';

export const EXPORT_FORMATS = ['label-studio', 'paddleocr', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const imagePath = (item: DatasetItem) => `images/${item.name}.jpg`;
const round = (value: number) => Math.round(value * 1e4) / 1e4;

/** Plain JSONL: one page per line with its image, boxes, the person's text and the model's. */
export async function writeJsonl(items: DatasetItem[], out: DatasetWriter): Promise<void> {
  const rows = [];
  for (const item of items) {
    await out.write(imagePath(item), item.image);
    rows.push(
      JSON.stringify({
        image: imagePath(item),
        width: item.width,
        height: item.height,
        predictionId: item.task.predictionId,
        taskId: item.task.id,
        kind: item.task.kind,
        modelVersion: item.task.modelVersion,
        verdict: item.task.answer?.verdict,
        reviewedBy: item.task.answer?.by,
        reviewedAt: item.task.answer?.at,
        lines: item.lines,
      }),
    );
  }
  await out.write('labels.jsonl', rows.map((row) => `${row}\n`).join(''));
}

/**
 * PaddleOCR's training lists: `rec_gt.txt` for recognition (`crops/<page>_<n>.png<TAB>text`, the
 * crops cut as the pipeline cuts them) and `det_gt.txt` for detection
 * (`images/<page>.jpg<TAB>[{"transcription", "points"}]`). A tab or line break inside a text
 * would split its line, so they become spaces.
 */
export async function writePaddleOcr(items: DatasetItem[], out: DatasetWriter, limits: Pick<IngestConfig, 'maxPixels'>): Promise<void> {
  const recognition: string[] = [];
  const detection: string[] = [];
  for (const item of items) {
    await out.write(imagePath(item), item.image);
    const frame = await renderFrame(item.image, limits);
    for (const [n, line] of item.lines.entries()) {
      const crop = cropQuad(frame, line.box);
      const png = await encodePng(crop);
      const path = `crops/${item.name}_${String(n).padStart(3, '0')}.png`;
      await out.write(path, png);
      recognition.push(`${path}\t${flat(line.text)}`);
    }
    const regions = item.lines.map((line) => ({ transcription: flat(line.text), points: line.box.map(([x, y]) => [Math.round(x), Math.round(y)]) }));
    detection.push(`${imagePath(item)}\t${JSON.stringify(regions)}`);
  }
  await out.write('rec_gt.txt', recognition.map((row) => `${row}\n`).join(''));
  await out.write('det_gt.txt', detection.map((row) => `${row}\n`).join(''));
}

function flat(text: string): string {
  return text.replace(/[\t\r\n]+/g, ' ');
}

/** The labeling configuration of Label Studio's OCR template, which the exported results name. */
export const LABEL_STUDIO_CONFIG = `<View>
  <Image name="image" value="$ocr"/>
  <Labels name="label" toName="image">
    <Label value="Text" background="green"/>
  </Labels>
  <Rectangle name="bbox" toName="image" strokeWidth="3"/>
  <TextArea name="transcription" toName="image" editable="true" perRegion="true" required="true" maxSubmissions="1" rows="5" placeholder="Recognized Text" displayMode="region-list"/>
</View>
`;

/**
 * Label Studio's import JSON for the OCR template: one task per page, the reviewed lines as an
 * annotation (a `rectangle`, its `labels` and its `textarea` transcription per region, sharing the
 * region id) and the model's lines as a prediction. Rectangles are in percent of the image:
 * x, y the top-left corner before rotation, rotation in degrees clockwise about it.
 */
export async function writeLabelStudio(items: DatasetItem[], out: DatasetWriter, imagePrefix: string): Promise<void> {
  const tasks = [];
  for (const item of items) {
    await out.write(imagePath(item), item.image);
    const answer = item.task.answer;
    tasks.push({
      // Task data may hold any keys beside the image: where the labels came from travels with them.
      data: {
        ocr: `${imagePrefix}${imagePath(item)}`,
        predictionId: item.task.predictionId,
        taskId: item.task.id,
        modelVersion: item.task.modelVersion,
        verdict: answer?.verdict,
        reviewedBy: answer?.by,
        reviewedAt: answer?.at,
      },
      annotations: [{ result: item.lines.flatMap((line, n) => regionResults(`r${n}`, line.box, line.text, item.width, item.height)), ground_truth: true }],
      predictions: [
        {
          model_version: item.task.modelVersion,
          score: Math.min(...item.task.modelOutput.lines.map((line) => line.confidence), 1),
          result: item.task.modelOutput.lines.flatMap((line, n) => regionResults(`m${n}`, line.box, line.text, item.width, item.height)),
        },
      ],
    });
  }
  await out.write('label-studio.json', `${JSON.stringify(tasks, null, 2)}\n`);
  await out.write('label-studio.xml', LABEL_STUDIO_CONFIG);
}

function regionResults(id: string, box: Quad, text: string, width: number, height: number) {
  const [topLeft, topRight, , bottomLeft] = box;
  const across = Math.hypot(topRight[0] - topLeft[0], topRight[1] - topLeft[1]);
  const down = Math.hypot(bottomLeft[0] - topLeft[0], bottomLeft[1] - topLeft[1]);
  const rotation = (Math.atan2(topRight[1] - topLeft[1], topRight[0] - topLeft[0]) * 180) / Math.PI;
  const geometry = {
    x: round((topLeft[0] / width) * 100),
    y: round((topLeft[1] / height) * 100),
    width: round((across / width) * 100),
    height: round((down / height) * 100),
    rotation: round((rotation + 360) % 360),
  };
  const common = { id, to_name: 'image', original_width: width, original_height: height, image_rotation: 0 };
  return [
    { ...common, from_name: 'bbox', type: 'rectangle', value: geometry },
    { ...common, from_name: 'label', type: 'labels', value: { ...geometry, labels: ['Text'] } },
    { ...common, from_name: 'transcription', type: 'textarea', value: { ...geometry, text: [text] } },
  ];
}
