import { z } from 'zod';
import { sceneQualityConfigSchema } from './scene-config.js';

/** What an image is a picture of decides what the gate judges: text-scale checks or photographic ones. */
export const GATE_CONTENT = ['document', 'scene'] as const;
export type GateContent = (typeof GATE_CONTENT)[number];

/** The checks each content type runs, in the order they report. */
export const GATE_CHECKS: Record<GateContent, readonly string[]> = {
  document: ['resolution', 'information', 'blur', 'exposure'],
  scene: ['resolution', 'information', 'sharpness', 'exposure'],
};

/**
 * A pipeline's gate: the content type, the checks that may refuse or warn, and the scene
 * thresholds (documents take theirs from the `quality` configuration). A manifest's optional
 * `gate` object is parsed with this schema; the model's input size comes from its `input`.
 *
 * @example
 * const gate = gateSettingsSchema.parse({ content: 'scene', checks: ['sharpness', 'exposure'], scene: { sharpness: { failBelow: 0.1 } } });
 */
export const gateSettingsSchema = z
  .object({
    content: z.enum(GATE_CONTENT).default('document'),
    /** The checks whose verdict counts; the others still report their scores, as `pass`. All when absent. */
    checks: z.array(z.string()).min(1).optional(),
    scene: sceneQualityConfigSchema.prefault({}),
    /** The model's input in pixels, which the resolution of a scene is judged against. */
    modelInput: z.object({ width: z.number().int().positive(), height: z.number().int().positive() }).strict().optional(),
  })
  .strict()
  .superRefine((settings, context) => {
    const known = GATE_CHECKS[settings.content];
    for (const [index, name] of (settings.checks ?? []).entries()) {
      if (!known.includes(name)) context.addIssue({ code: 'custom', path: ['checks', index], message: `"${name}" is not a ${settings.content} check: choose from ${known.join(', ')}` });
    }
  });

export type GateSettings = z.infer<typeof gateSettingsSchema>;
