import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { VisionopsError } from '../../core/errors.js';
import { authConfigSchema } from '../../server/auth-config.js';
import { hashKey } from '../../server/auth.js';

interface KeyOptions {
  id: string;
  scopes: string;
}

/**
 * `visionops key`: a new API key (32 random bytes) and the `auth.keys` entry that admits it. The
 * server keeps only the SHA-256, so the key is shown this once.
 */
export function registerKey(program: Command): void {
  program
    .command('key')
    .description('make an API key; prints {key, entry}: give the key to its holder, add the entry to auth.keys')
    .requiredOption('--id <name>', 'who holds the key (their name on the answers they give)')
    .option('--scopes <list>', 'comma-separated scopes: predict, review, admin', 'review')
    .action((options: KeyOptions) => {
      const key = `vo_${randomBytes(32).toString('base64url')}`;
      const entry = { id: options.id, sha256: hashKey(key), scopes: options.scopes.split(',').map((scope) => scope.trim()) };
      const checked = authConfigSchema.safeParse({ keys: [entry] });
      if (!checked.success) {
        const problems = checked.error.issues.map((issue) => `${issue.path.slice(2).join('.') || 'entry'}: ${issue.message}`).join('; ');
        throw new VisionopsError('INVALID_CONFIG', `Cannot make this key (${problems}): --id takes letters, digits and . _ @ -; --scopes takes predict, review, admin.`);
      }
      process.stdout.write(`${JSON.stringify({ key, entry }, null, 2)}\n`);
    });
}
