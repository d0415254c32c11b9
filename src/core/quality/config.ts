import { z } from 'zod';

/**
 * Gate thresholds. Every default is chosen from measurements on generated documents
 * (`node --import tsx scripts/measure-gate.ts`); docs/quality-gate.md holds the table and the why.
 */
export const qualityConfigSchema = z
  .object({
    resolution: z
      .object({
        /**
         * Fail below this short side in pixels, whatever the text: a floor for frames too small to
         * hold a line at all. Above it, the size of the text decides (minTextHeight), not the frame's.
         */
        minShortSide: z.number().positive().default(16),
        /** Fail below this many pixels (the same floor). */
        minPixels: z.number().positive().default(1024),
        /**
         * Fail when the print is lower than this many pixels (the median smaller side of its letters
         * and words), below which the recogniser loses characters...
         */
        minTextHeight: z.number().positive().default(3.5),
        /** ...judged only when at least this many letter-like marks say so (a photograph has few). */
        minLetters: z.number().int().positive().default(40),
        /** Warn (never fail: long receipts are real) beyond this long/short ratio. */
        maxAspectRatio: z.number().positive().default(8),
      })
      .strict()
      .prefault({}),
    analysis: z
      .object({
        /**
         * Information and the line pitch are read on the luma area-averaged to this long side (an
         * overview), so one scene reads the same at any capture size.
         */
        overviewLongSide: z.number().int().min(256).max(4096).default(1024),
        /** Blur is read where text lines are this many pixels apart (about 30 px print). */
        canonicalLinePitch: z.number().positive().default(40),
        /** The line pitch assumed, as a fraction of the overview's long side, when no regular lines are found. */
        fallbackLinePitch: z.number().positive().max(1).default(0.045),
        /** Line structure weaker than this autocorrelation counts as not found. */
        minLinePitchConfidence: z.number().min(0).max(1).default(0.25),
        /** The ink and paper levels are read in this many tiles of the densest content, blur in this many of the steepest dense content... */
        tiles: z.number().int().positive().default(6),
        /** ...each this many working pixels on a side (four canonical lines). */
        tileSize: z.number().int().min(32).default(160),
        /** Half-width, in working pixels, of the window whose luma range is an edge's contrast. */
        edgeWindow: z.number().int().min(2).max(32).default(8),
        /** An edge counts as content when its contrast reaches this many luma levels... */
        minEdgeContrast: z.number().positive().default(8),
        /** ...and this many times the range of the quieter background (grain, sensor and JPEG noise). */
        backgroundRangeMultiple: z.number().positive().default(5),
        /**
         * ...but an edge of this contrast always counts: where a busy background (granite, a
         * patterned cloth) fills most of the frame, its range would otherwise raise the bar above
         * the print of the page lying on it, and the page would look empty.
         */
        maxEdgeContrast: z.number().positive().default(96),
        /** Opposite edges at most this many overview pixels apart are the two sides of one mark. */
        pairDistance: z.number().int().positive().default(32),
      })
      .strict()
      .prefault({}),
    blur: z
      .object({
        /** Fail below this median edge steepness (gradient / local contrast, per working pixel). */
        failBelow: z.number().positive().default(0.18),
        /** Warn below this steepness. */
        warnBelow: z.number().positive().default(0.25),
        /** Only edges with at least this fraction of the strong-edge contrast (90th percentile) are measured. */
        strongEdgeFraction: z.number().min(0).max(1).default(0.5),
        /** With fewer measurable edges, sharpness is not judged (the information check speaks instead). */
        minEdges: z.number().int().positive().default(30),
        /**
         * Where no line pitch is found there may be no text at all (a photograph sent to a document
         * pipeline), and the text's scale is guessed from marks that may be texture or grain: a blur
         * finding then stands only when the image's strongest outlines, read as the scene gate reads
         * them at `workingLongSide`, are not steeper than `sharpFrom`. Null: the finding always stands.
         */
        withoutLines: z
          .object({
            /** Fine enough that a page blurred past its line pitch still looks soft (at 512, the scene gate's, it looks sharp). */
            workingLongSide: z.number().int().min(64).max(4096).default(1024),
            /** Median steepness of the strong outlines from which the image is sharp (docs/quality-gate.md has the measurements). */
            sharpFrom: z.number().min(0).max(1).default(0.25),
          })
          .strict()
          .nullable()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    exposure: z
      .object({
        /** Warn "too dark" when the paper (95th percentile of luma) is below this level. */
        darkPaperBelow: z.number().min(0).max(255).default(100),
        /** Warn "overexposed" when the ink (1st percentile) is lifted above this level... */
        liftedInkAbove: z.number().min(0).max(255).default(165),
        /** ...while the paper is blown out (95th percentile at or above this level). */
        blownPaperFrom: z.number().min(0).max(255).default(250),
        /** With a dark or bright finding, fail when paper minus ink is below this many levels. */
        minSeparation: z.number().min(0).max(255).default(8),
        /**
         * A photograph is too bright when its median luma is at or above this level...
         */
        brightMedianFrom: z.number().min(0).max(255).default(185),
        /** ...the dark side of its edges is lifted above this level (no deep shadows, no dark ink)... */
        washedShadowsAbove: z.number().min(0).max(255).default(140),
        /** ...and either its darkest 2% are at or above this level (washed out) or `clippedShare` of it is clipped white. */
        liftedBlacksFrom: z.number().min(0).max(255).default(90),
        clippedShare: z.number().min(0).max(1).default(0.1),
        /**
         * A photograph is too dark when at least this share of its pixels is crushed black (at or
         * below `crushedBelow`) and the bright side of its edges is under `dimHighlightsBelow`.
         */
        crushedShare: z.number().min(0).max(1).default(0.1),
        dimHighlightsBelow: z.number().min(0).max(255).default(120),
        /** Luma at or below this counts as crushed shadow. */
        crushedBelow: z.number().min(0).max(255).default(8),
        /** Luma at or above this counts as blown highlight. */
        blownFrom: z.number().min(0).max(255).default(250),
      })
      .strict()
      .prefault({}),
    information: z
      .object({
        /** Fail below this many content edges per scanned row or column of the working luma. */
        minEdgeDensity: z.number().min(0).default(0.05),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type QualityConfig = z.infer<typeof qualityConfigSchema>;
