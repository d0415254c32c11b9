import type { Frame } from '../frame.js';
import type { Quad } from '../postprocess/geometry.js';
import { keptReading, readCrops, type LineReader, type LineReading, type RecognizerRun } from '../postprocess/recognition.js';
import { groupRows } from '../postprocess/rows.js';
import { cutRegions } from './regions.js';

/** What a device reads of a frame: each line's crop as it is sent, its reading, and the text as the record will print it. */
export interface DeviceLines {
  crops: Frame[];
  /** The recogniser's reading of each crop, in the boxes' order. */
  readings: LineReading[];
  /** The kept readings grouped into the page's rows. */
  rows: string[];
}

/**
 * The lines a device found, read as the server reads a regions upload: each cut as it is sent
 * (`cutRegions`), read by the built-in recogniser with the server's preprocessing, bucketing,
 * decoding and spelling (`readCrops`), and the readings that count (`dropScore`) grouped into
 * rows. The capture page's model worker and the Node agent read with this.
 */
export async function readLinesOnDevice(frame: Frame, boxes: Quad[], recognise: RecognizerRun, reader: LineReader, dropScore: number): Promise<DeviceLines> {
  const crops = cutRegions(frame, boxes);
  const readings = crops.length === 0 ? [] : await readCrops(crops, recognise, reader);
  const kept = readings.flatMap((reading, i) => (keptReading(reading, dropScore) ? [{ ...reading, box: boxes[i] }] : []));
  return { crops, readings, rows: groupRows(kept).map((row) => row.text) };
}
