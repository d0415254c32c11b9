import type { GrayFrame } from '../frame.js';
import type { QualityConfig } from './config.js';
import type { EdgeSamples } from './edges.js';
import { javascriptKernels, type QualityKernels } from './kernels.js';
import type { LetterSizes } from './letters.js';
import { estimateLinePitchEitherWay } from './line-pitch.js';
import type { LumaPlane, Region } from './luma.js';

/** The overview: the whole image area-averaged to a fixed long side, and its edges. */
export interface Overview {
  plane: LumaPlane;
  /** Overview pixels per input pixel. */
  scale: number;
  edges: EdgeSamples;
}

/** Edges measured in the densest content, at a scale where text lines sit a fixed distance apart. */
export interface TextScaleEdges {
  count: number;
  low: Float32Array;
  high: Float32Array;
  steepness: Float32Array;
  /** Line pitch of the text, in input pixels. */
  pitch: number;
  /** How the pitch was found: 1 from the text's own lines, 0 assumed from the image size. */
  pitchFound: number;
  pitchConfidence: number;
  /** Working pixels per input pixel (1 when the text is already smaller than the canonical scale). */
  scale: number;
  /** The line pitch at the working scale: the canonical pitch unless the text is smaller. */
  workingPitch: number;
}

type AnalysisConfig = QualityConfig['analysis'];

export function edgeOptions(config: AnalysisConfig) {
  return {
    window: config.edgeWindow,
    minContrast: config.minEdgeContrast,
    backgroundMultiple: config.backgroundRangeMultiple,
    maxContrast: config.maxEdgeContrast,
    pairDistance: config.pairDistance,
  };
}

/**
 * The overview of an image of long side `max(gray) / grayScale`: `gray` is its luma, or a reduced
 * decode of it (`grayScale` gray pixels per image pixel, under 1); the overview is area-averaged
 * from it, or is it when it is already no larger than the overview.
 */
export function overviewOf(gray: GrayFrame, config: AnalysisConfig, kernels: QualityKernels = javascriptKernels, grayScale = 1): Overview {
  const scale = Math.min(1, config.overviewLongSide / (Math.max(gray.width, gray.height) / grayScale));
  const fromGray = Math.min(1, scale / grayScale);
  const plane = kernels.resampleLuma(gray, { x: 0, y: 0, width: gray.width, height: gray.height }, fromGray);
  return { plane, scale: fromGray * grayScale, edges: kernels.sampleEdges(plane, edgeOptions(config)) };
}

/** The rectangle holding every tile of `plan`, in image pixels; null without tiles. */
export function tilesRegion(plan: TextScalePlan): Region | null {
  if (plan.tiles.length === 0) return null;
  const x = Math.min(...plan.tiles.map((t) => t.x));
  const y = Math.min(...plan.tiles.map((t) => t.y));
  const right = Math.max(...plan.tiles.map((t) => t.x + t.width));
  const bottom = Math.max(...plan.tiles.map((t) => t.y + t.height));
  return { x, y, width: right - x, height: bottom - y };
}

/** A tile of the plan, and what is read in it: sharpness (`blur`), the ink and paper levels (`levels`), or both. */
export interface PlannedTile extends Region {
  blur: boolean;
  levels: boolean;
}

/**
 * Where and at what scale the content is read: the line pitch found on the overview, and the tiles
 * in image pixels. The ink and paper levels are read in the densest content (the print, where
 * there is a page); sharpness in the dense content whose edges are steepest, so that a page in
 * focus is judged by its print and not by a busier background out of focus behind it.
 */
export interface TextScalePlan {
  /** Line pitch of the text, in image pixels. */
  pitch: number;
  pitchFound: number;
  pitchConfidence: number;
  /** Working pixels per image pixel. */
  scale: number;
  /** The tiles, margins included, in image pixels: the two choices, a tile both chose once. */
  tiles: PlannedTile[];
}

/**
 * Finds the line pitch on the overview, then chooses the densest tiles of content and the scale
 * that puts lines `canonicalLinePitch` pixels apart there. Blur then means the same thing for 16
 * px print on a 3000 px scan as for 48 px print on an 800 px photo: how far the edges spread
 * compared with the size of the text, which is what reading it needs.
 */
export function planTextScale(overview: Overview, width: number, height: number, letters: LetterSizes, minLetters: number, config: AnalysisConfig, kernels: QualityKernels = javascriptKernels): TextScalePlan {
  const { plane } = overview;
  const found = estimateLinePitchEitherWay(overview.edges, plane.width, plane.height, config.minLinePitchConfidence, kernels.stripProfiler);
  const useFound = found !== null && found.confidence >= config.minLinePitchConfidence;
  const overviewPitch = useFound ? found.pitch : config.fallbackLinePitch * Math.max(plane.width, plane.height);
  const pitch = Math.max(overviewPitch / overview.scale, pitchFloor(letters, minLetters, overview, config));
  const scale = Math.min(1, config.canonicalLinePitch / pitch);
  const margin = Math.ceil((config.edgeWindow + 2) / scale);
  const cells = contentCells(overview, (config.tileSize * overview.scale) / scale);
  const forLevels = new Set(densest(cells, config.tiles));
  const forBlur = new Set(steepest(cells, config.tiles));
  const tiles = [...new Set([...forLevels, ...forBlur])].map((c) => {
    const cell = cellAt(cells, c);
    const x = Math.max(0, Math.floor(cell.x / overview.scale) - margin);
    const y = Math.max(0, Math.floor(cell.y / overview.scale) - margin);
    const right = Math.min(width, Math.ceil((cell.x + cell.size) / overview.scale) + margin);
    const bottom = Math.min(height, Math.ceil((cell.y + cell.size) / overview.scale) + margin);
    return { x, y, width: right - x, height: bottom - y, blur: forBlur.has(c), levels: forLevels.has(c) };
  });
  return { pitch, pitchFound: useFound ? 1 : 0, pitchConfidence: found?.confidence ?? 0, scale, tiles };
}

/**
 * Reads the plan's tiles from the full-resolution luma at the text's scale, and measures their
 * edges; `gray` holds the image's pixels from `origin` on (a decode of the tiles' region only, or
 * the whole image). Always full resolution: a reduced decode (half size in the JPEG's DCT, then a
 * linear kernel) softens thin strokes more than area averaging does, and the ink level read from
 * it came out lighter even where the text's scale was below the reduction (docs/performance.md).
 */
export function readTextScale(plan: TextScalePlan, gray: GrayFrame, config: AnalysisConfig, kernels: QualityKernels = javascriptKernels, origin = { x: 0, y: 0 }): { blur: TextScaleEdges; levels: TextScaleEdges } {
  const read = plan.tiles.map((tile) => {
    const tilePlane = kernels.resampleLuma(gray, { x: tile.x - origin.x, y: tile.y - origin.y, width: tile.width, height: tile.height }, plan.scale);
    return { tile, edges: kernels.sampleEdges(tilePlane, edgeOptions(config)) };
  });
  const scaleOf = { pitch: plan.pitch, pitchFound: plan.pitchFound, pitchConfidence: plan.pitchConfidence, scale: plan.scale, workingPitch: plan.pitch * plan.scale };
  const of = (role: 'blur' | 'levels') => ({ ...concatenate(read.filter(({ tile }) => tile[role]).map(({ edges }) => edges)), ...scaleOf });
  return { blur: of('blur'), levels: of('levels') };
}

/**
 * Lines are always further apart than their letters are tall; a pitch under this floor is the
 * letters' own pitch along a line (a page turned near a quarter, beyond the skew the pitch search
 * levels) or the grain of a photograph, and judging blur at it would call sharp text blurry.
 */
const PITCH_PER_LETTER = 1.5;

/**
 * The smallest believable line pitch, in input pixels: 1.5 letters where the print's letters were
 * found; where they were not (a photograph, a label), the assumed pitch, so that no regularity in
 * a scene sets a scale finer than the one assumed for it.
 */
function pitchFloor(letters: LetterSizes, minLetters: number, overview: Overview, config: AnalysisConfig): number {
  if (letters.count >= minLetters) return PITCH_PER_LETTER * letters.size;
  return (config.fallbackLinePitch * Math.max(overview.plane.width, overview.plane.height)) / overview.scale;
}

/** The overview cut into square cells (side `size`), with the edges in each and their summed steepness. */
interface ContentCells {
  size: number;
  columns: number;
  counts: Uint32Array;
  steepnessSums: Float64Array;
}

/** A cell as dense as this share of the densest one is content enough to be judged by. */
const DENSE_SHARE = 0.25;

function contentCells(overview: Overview, size: number): ContentCells {
  const { width, height } = overview.plane;
  const cell = Math.max(8, Math.round(size));
  const columns = Math.ceil(width / cell);
  const counts = new Uint32Array(columns * Math.ceil(height / cell));
  const steepnessSums = new Float64Array(counts.length);
  const { position } = overview.edges;
  for (let e = 0; e < overview.edges.count; e++) {
    const y = (position[e] / width) | 0;
    const c = ((y / cell) | 0) * columns + (((position[e] - y * width) / cell) | 0);
    counts[c]++;
    steepnessSums[c] += overview.edges.steepness[e];
  }
  return { size: cell, columns, counts, steepnessSums };
}

function cellAt({ size, columns }: ContentCells, c: number): { x: number; y: number; size: number } {
  return { x: (c % columns) * size, y: Math.floor(c / columns) * size, size };
}

/** The `count` cells holding the most edges, densest first. */
function densest({ counts }: ContentCells, count: number): number[] {
  return Array.from(counts.keys())
    .filter((c) => counts[c] > 0)
    .sort((a, b) => counts[b] - counts[a])
    .slice(0, count);
}

/** The `count` cells, of those at least DENSE_SHARE as dense as the densest, whose edges are steepest on average. */
function steepest({ counts, steepnessSums }: ContentCells, count: number): number[] {
  const most = counts.reduce((top, n) => Math.max(top, n), 0);
  return Array.from(counts.keys())
    .filter((c) => counts[c] > 0 && counts[c] >= DENSE_SHARE * most)
    .sort((a, b) => steepnessSums[b] / counts[b] - steepnessSums[a] / counts[a])
    .slice(0, count);
}

function concatenate(parts: EdgeSamples[]): Pick<TextScaleEdges, 'count' | 'low' | 'high' | 'steepness'> {
  const count = parts.reduce((sum, p) => sum + p.count, 0);
  const low = new Float32Array(count);
  const high = new Float32Array(count);
  const steepness = new Float32Array(count);
  let at = 0;
  for (const p of parts) {
    low.set(p.low, at);
    high.set(p.high, at);
    steepness.set(p.steepness, at);
    at += p.count;
  }
  return { count, low, high, steepness };
}
