import { createHash, randomBytes } from 'node:crypto';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VisionopsError } from '../core/errors.js';
import type { BlobStore } from './store.js';

const KEY = /^[0-9a-f]{64}$/;

/**
 * Content-addressed files: `<dir>/ab/abcdef...` for bytes whose SHA-256 starts with `ab`, so no
 * folder grows past a few thousand entries. A blob is written to a temporary name and renamed into
 * place, so a reader never sees half an image and a second put of the same bytes changes nothing.
 *
 * @example
 * const blobs = createFileBlobStore('data/blobs');
 * const key = await blobs.put(imageBytes);
 */
export function createFileBlobStore(dir: string): BlobStore {
  const pathOf = (key: string) => join(dir, key.slice(0, 2), key);
  return {
    async put(bytes) {
      const key = createHash('sha256').update(bytes).digest('hex');
      const target = pathOf(key);
      if (await access(target).then(() => true, () => false)) return key;
      const temporary = join(dir, key.slice(0, 2), `.${key}.${randomBytes(6).toString('hex')}.tmp`);
      try {
        await mkdir(join(dir, key.slice(0, 2)), { recursive: true });
        await writeFile(temporary, bytes, { flag: 'wx' });
        await rename(temporary, target);
      } catch (error) {
        await rm(temporary, { force: true }).catch(() => undefined);
        throw new VisionopsError(
          'STORE_UNAVAILABLE',
          `The blob store ${dir} cannot keep an image (${(error as Error).message}): check that the data directory exists, is writable and has free space.`,
          { dir },
          { cause: error },
        );
      }
      return key;
    },
    async get(key) {
      if (!KEY.test(key)) return null;
      try {
        return new Uint8Array(await readFile(pathOf(key)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw new VisionopsError('STORE_UNAVAILABLE', `The blob store ${dir} cannot be read (${(error as Error).message}).`, { dir }, { cause: error });
      }
    },
  };
}
