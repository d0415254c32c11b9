import { z } from 'zod';

/** The built-in document pipeline; detection defaults are PaddleOCR's for PP-OCRv4. */
export const pipelineConfigSchema = z
  .object({
    detection: z
      .object({
        limitSideLen: z.number().int().positive().default(960),
        threshold: z.number().min(0).max(1).default(0.3),
        boxThreshold: z.number().min(0).max(1).default(0.6),
        unclipRatio: z.number().positive().default(1.5),
        maxCandidates: z.number().int().positive().default(1000),
        /**
         * PaddleOCR's det_db_score_mode: 'slow' scores a region by the mean inside the region,
         * 'fast' inside its rectangle, which a stamp across a line swells until the line is dropped.
         */
        scoreMode: z.enum(['fast', 'slow']).default('slow'),
        /**
         * A second detection pass at a higher resolution for pages whose text is small relative
         * to the frame: when the median height of the boxes found, at the detector's scale, is
         * under `belowHeight` pixels and the image is larger than `limitSideLen`, the page is
         * detected again with its long side limited to `sideLen` instead. null: one pass.
         * Measured on scanned receipts (docs/real-world.md): receipts 1,500 px long with 9 px print
         * went from word F1 0.63 and 0.88 to 0.81 and 0.90 read at 1600.
         */
        smallText: z
          .object({
            sideLen: z.number().int().positive().nullable().default(1600),
            belowHeight: z.number().positive().default(14),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    orientation: z
      .object({
        /** Look for pages turned by 90, 180 or 270 degrees; off, every page is read as it comes. */
        enabled: z.boolean().default(true),
        /** A page is on its side when more than this share of its text boxes (by length) are taller than wide. */
        sidewaysShare: z.number().min(0).max(1).default(0.5),
        /** A line counts as upside down when the classifier says 180 with more confidence than this (PaddleOCR's cls_thresh). */
        lineThreshold: z.number().min(0).max(1).default(0.9),
        /** The page is turned 180 degrees when more than this share of its lines (by length) are upside down. */
        upsideDownShare: z.number().min(0).max(1).default(0.5),
        /**
         * A page whose text runs at least this many degrees off level (after any quarter turn) is
         * straightened and its text found again: tilted lines' boxes run into their neighbours. Null: never.
         */
        deskewFromDegrees: z.number().min(0).max(45).nullable().default(4),
      })
      .strict()
      .prefault({}),
    recognition: z
      .object({
        /**
         * Crops are padded on the right to the next multiple of this many pixels (after resizing
         * to the model's height), so crops of similar width batch together (runtime.batching).
         */
        bucketWidth: z.number().int().positive().default(160),
        /**
         * CTC decoding's space boost (src/core/postprocess/ctc.ts) in place of the model's own (100
         * for the built-in recogniser); null keeps the model's.
         */
        spaceBoost: z.number().min(1).nullable().default(null),
        /** Lines read with less confidence than this are dropped as noise (PaddleOCR's drop_score). */
        dropScore: z.number().min(0).max(1).default(0.5),
        /**
         * Words misread by one character set right from the recogniser's own runner-up and an
         * English lexicon (src/core/text/spelling.ts, docs/document-pipeline.md); null reads as
         * the model wrote.
         */
        spelling: z
          .object({
            /** The least share of the chosen character's probability the runner-up needs (measured in docs/real-world.md). */
            least: z.number().min(0).max(1).default(0.1),
            /** Words with fewer letters stay as read: abbreviations ("Amt", "SDN") lie one letter from common words. */
            shortest: z.number().int().min(2).default(4),
            /** Words of the deployment's own (product names, codes in letters) the lexicon knows and offers besides English. */
            words: z.array(z.string().min(1)).default([]),
          })
          .strict()
          .nullable()
          .prefault({}),
        cascade: z
          .object({
            /**
             * A faster recogniser (`id@version` registered under data.dir/models, e.g. an INT8 one
             * from visionops quantize) read first; null reads every line with the built-in one only.
             */
            fastModel: z.string().nullable().default(null),
            /** A line the fast model reads with at least this confidence is kept; others are read again by the accurate model. */
            acceptAbove: z.number().min(0).max(1).default(0.95),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    /**
     * A fixed region of the upright image, in pixels, cropped before the gate and the models see
     * anything (fixed cameras): null reads the whole image.
     */
    roi: z
      .object({
        left: z.number().int().min(0),
        top: z.number().int().min(0),
        width: z.number().int().positive(),
        height: z.number().int().positive(),
      })
      .strict()
      .nullable()
      .default(null),
    decision: z
      .object({
        /** A line read with less confidence than this sends the page to review; chosen with scripts/measure-ocr.ts (docs/document-pipeline.md). */
        reviewThreshold: z.number().min(0).max(1).default(0.93),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type PipelineConfig = z.infer<typeof pipelineConfigSchema>;

/** The tasks a configured pipeline can have; classification and detection are a user's own model, declared by a manifest (docs/own-models.md). */
export const CONFIGURABLE_TASKS = ['document', 'classification', 'detection'] as const;

/**
 * The pipelines one server runs, the first being the default of `POST /v1/predict`; each is
 * chosen by name (`?pipeline=NAME`). `settings: null` takes the top-level `pipeline` key, so a
 * configuration written before there were several keeps working unchanged.
 */
export const pipelinesConfigSchema = z
  .array(
    z
      .object({
        name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, "-" and "_"'),
        task: z.enum(CONFIGURABLE_TASKS).default('document'),
        settings: pipelineConfigSchema.nullable().default(null),
        /** classification and detection: the model manifest file (relative to the working directory). */
        manifest: z.string().min(1).optional(),
      })
      .strict()
      .refine((entry) => (entry.task === 'document') === (entry.manifest === undefined), {
        message: 'a classification or detection pipeline names its model manifest (manifest: "path/to/manifest.json"); a document pipeline has none',
        path: ['manifest'],
      }),
  )
  .min(1)
  .refine((entries) => new Set(entries.map((entry) => entry.name)).size === entries.length, 'pipeline names must differ')
  .default([{ name: 'document', task: 'document', settings: null }]);
