import { z } from 'zod';
import { VisionopsError } from '../core/errors.js';
import { DESCRIPTOR_NAMES } from '../core/monitor/descriptor.js';
import type { ReferenceProfile } from '../core/monitor/profile.js';

const numbers = z.array(z.number());

const profileSchema = z.object({
  version: z.literal(1),
  createdAt: z.string(),
  source: z.string(),
  images: z.number().int().positive(),
  features: z.record(z.string(), numbers),
  decisions: z.object({ accept: z.number(), review: z.number(), reject: z.number() }),
  descriptor: z.object({
    names: z.array(z.string()),
    mean: numbers,
    scale: numbers,
    points: z.array(numbers).min(2),
    bandwidth: z.number().positive(),
    neighbours: z.number().int().positive(),
    outlierThreshold: z.number(),
    outlierQuantile: z.number(),
  }),
});

/** A reference profile read from JSON, checked against this version's descriptor. Throws INVALID_CONFIG naming the problem. */
export function parseReferenceProfile(text: string, file: string): ReferenceProfile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new VisionopsError('INVALID_CONFIG', `The reference profile ${file} is not JSON (${(error as Error).message}): write it again with \`visionops profile\`.`, { file });
  }
  const parsed = profileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new VisionopsError('INVALID_CONFIG', `The reference profile ${file} is not a visionops profile (${issue.path.join('.')}: ${issue.message}): write it again with \`visionops profile\`.`, {
      file,
    });
  }
  if (parsed.data.descriptor.names.join(',') !== DESCRIPTOR_NAMES.join(',')) {
    throw new VisionopsError('INVALID_CONFIG', `The reference profile ${file} was written with another image descriptor: write it again with this version's \`visionops profile\`.`, { file });
  }
  return parsed.data;
}
