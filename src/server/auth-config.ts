import { z } from 'zod';

/** What a key may do: send images (`predict`), review tasks (`review`), everything (`admin`). */
export const SCOPES = ['predict', 'review', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export const authConfigSchema = z
  .object({
    /**
     * The API keys, kept as the SHA-256 of the key (`visionops key` makes one). None, the default,
     * turns access control off: fit for a server on 127.0.0.1, not for one others can reach.
     */
    keys: z
      .array(
        z
          .object({
            /** Who holds the key; it is the reviewer's name on the answers they give. */
            id: z.string().regex(/^[\w.@-]{1,64}$/, 'letters, digits and . _ @ -, at most 64'),
            sha256: z.string().regex(/^[0-9a-f]{64}$/, 'the lowercase hex SHA-256 of the key (visionops key prints it)'),
            scopes: z.array(z.enum(SCOPES)).min(1),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

export type AuthConfig = z.infer<typeof authConfigSchema>;
