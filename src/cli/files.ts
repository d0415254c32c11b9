import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { VisionopsError } from '../core/errors.js';

/** Inside folders only files with these extensions are taken; a file named on the command line is always taken. */
const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.jpe', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif', '.heic', '.heif']);

/**
 * The files the command line names: files as given, folders walked recursively for images (hidden
 * entries skipped), in a stable order, each once. A path that does not exist is a usage error, reported
 * before any model loads.
 */
export async function collectFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => null);
    if (info === null) {
      throw new VisionopsError('INVALID_REQUEST', `No such file or folder: ${path}. Check the path.`);
    }
    if (info.isDirectory()) files.push(...(await imagesIn(path)));
    else files.push(path);
  }
  if (files.length === 0) {
    throw new VisionopsError('INVALID_REQUEST', `No images found in ${paths.join(', ')} (folders are searched for ${[...IMAGE_EXTENSIONS].join(' ')}).`);
  }
  return [...new Map(files.map((file) => [resolve(file), file])).values()];
}

/** The images in a folder and its subfolders (hidden entries skipped), sorted by name. */
export async function imagesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const found: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await imagesIn(path)));
    else if (entry.isFile() && IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) found.push(path);
  }
  return found;
}
