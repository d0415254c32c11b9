import { z } from 'zod';

/**
 * Thresholds of the gate for scenes (photographs of objects, parts, places): the defaults come
 * from generated scenes (test/quality-scene.test.ts); `visionops calibrate-gate` proposes values
 * from a team's own captures. docs/quality-gate.md holds the why.
 */
export const sceneQualityConfigSchema = z
  .object({
    sharpness: z
      .object({
        /**
         * Sharpness is read on the luma area-averaged to this long side: about the model's input,
         * since blur finer than what the model sees does not matter to it.
         */
        workingLongSide: z.number().int().min(64).max(4096).default(512),
        /** Fail below this median steepness of the strong edges (0.5 is a perfect step). */
        failBelow: z.number().min(0).max(1).default(0.12),
        /** Warn below this steepness. */
        warnBelow: z.number().min(0).max(1).default(0.17),
        /** With fewer measurable edges, sharpness is not judged (a plain backdrop, a wall). */
        minEdges: z.number().int().positive().default(30),
      })
      .strict()
      .prefault({}),
    exposure: z
      .object({
        /** Luma at or above this counts as clipped highlight... */
        blownFrom: z.number().min(0).max(255).default(250),
        /** ...at or below this as crushed shadow. */
        crushedBelow: z.number().min(0).max(255).default(8),
        /** Warn "too bright" when this share of the frame is clipped white... */
        clippedWarn: z.number().min(0).max(1).default(0.15),
        /** ...and fail when this much is: most of the frame then holds nothing. */
        clippedFail: z.number().min(0).max(1).default(0.6),
        /** Warn "too bright" when the darkest 2% are lifted to this level (washed out)... */
        liftedBlacksFrom: z.number().min(0).max(255).default(150),
        /** ...or to this lower level when the highlights (98th percentile) reach `highlightsAtClipFrom`: the whole histogram pushed up against the clip, nothing in the frame left dark. */
        liftedBlacksAtClipFrom: z.number().min(0).max(255).default(130),
        highlightsAtClipFrom: z.number().min(0).max(255).default(240),
        /** ...fail when they reach this one (a white frame). */
        whiteFrameFrom: z.number().min(0).max(255).default(235),
        /** Warn "too dark" when this share of the frame is crushed black and the highlights (98th percentile) are dim... */
        crushedWarn: z.number().min(0).max(1).default(0.3),
        dimHighlightsBelow: z.number().min(0).max(255).default(110),
        /** ...or whatever the shadows, when the highlights stay under this level. */
        darkHighlightsBelow: z.number().min(0).max(255).default(50),
        /** Fail "too dark" when even the highlights stay under this level: a black frame. */
        blackFrameBelow: z.number().min(0).max(255).default(12),
      })
      .strict()
      .prefault({}),
    resolution: z
      .object({
        /** Fail below this short side in pixels, whatever the model (a frame too small to hold anything). */
        minShortSide: z.number().positive().default(32),
        /** Against the model's input: warn when its short side must be enlarged at all... */
        warnUpscale: z.number().min(1).default(1),
        /** ...fail when it must be enlarged more than this many times (the model would see mush). */
        failUpscale: z.number().min(1).default(2),
      })
      .strict()
      .prefault({}),
    information: z
      .object({
        /** Fail as empty when fewer than this share of the working pixels lie on an edge (a lens cap, a blank wall). */
        minEdgeShare: z.number().min(0).max(1).default(0.0005),
        /** ...and its tones (98th minus 2nd percentile of luma) spread less than this many levels. */
        minSpread: z.number().min(0).max(255).default(24),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type SceneQualityConfig = z.infer<typeof sceneQualityConfigSchema>;
