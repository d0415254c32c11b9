import { readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { VisionopsError } from '../core/errors.js';

/**
 * A file a job names by path, read from under `root` only: `..`, absolute paths and symbolic
 * links that lead out of the root are refused, so a client cannot have a worker read what the
 * operator did not share. The size is checked before reading.
 */
export async function readSharedFile(root: string | null, path: string, maxBytes: number): Promise<Uint8Array> {
  if (root === null) {
    throw new VisionopsError('INVALID_REQUEST', 'This server takes no paths (queue.pathsRoot is null): upload the images as multipart fields "image", or set queue.pathsRoot to the folder the workers share.');
  }
  const base = await realpath(root).catch((error: unknown) => {
    throw new VisionopsError('INVALID_CONFIG', `queue.pathsRoot ${root} cannot be read (${(error as Error).message}): point it at the folder the workers share.`, { root });
  });
  const refused = () => new VisionopsError('INVALID_REQUEST', `The path ${JSON.stringify(path)} is not a file under the shared folder: give paths relative to queue.pathsRoot, without "..".`, { path });
  if (typeof path !== 'string' || path.length === 0 || path.includes('\0') || isAbsolute(path)) throw refused();
  const target = await realpath(resolve(base, path)).catch(() => {
    throw refused();
  });
  const inside = relative(base, target);
  if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) throw refused();
  const info = await stat(target);
  if (!info.isFile()) throw refused();
  if (info.size > maxBytes) {
    throw new VisionopsError('IMAGE_TOO_LARGE', `${path} is ${info.size.toLocaleString('en-US')} bytes, over ingest.maxBytes (${maxBytes.toLocaleString('en-US')}).`, { path });
  }
  return new Uint8Array(await readFile(target));
}
