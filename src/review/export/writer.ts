import { createHash } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { VisionopsError } from '../../core/errors.js';
import { canonicalJson } from '../../core/canonical-json.js';

export interface ManifestFile {
  path: string;
  sha256: string;
  bytes: number;
}

/** What a dataset version is: every file with its hash, what it holds and where it came from. */
export interface DatasetManifest {
  /** SHA-256 of the canonical JSON of everything below: the same content always has the same id. */
  id: string;
  format: string;
  counts: { images: number; lines: number; correctedLines: number; files: number };
  predictions: string[];
  modelVersions: string[];
  files: ManifestFile[];
}

/**
 * Writes an export's files into a folder that must be new or empty (so nothing stale is in it),
 * hashing each as it goes, then `manifest.json`.
 */
export class DatasetWriter {
  private readonly files: ManifestFile[] = [];

  private constructor(readonly dir: string) {}

  static async open(dir: string): Promise<DatasetWriter> {
    const existing = await readdir(dir).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? [] : Promise.reject(error)));
    if (existing.length > 0) {
      throw new VisionopsError('INVALID_REQUEST', `The export folder ${dir} is not empty: choose a new folder with --out, so the dataset holds only what its manifest lists.`);
    }
    await mkdir(dir, { recursive: true });
    return new DatasetWriter(dir);
  }

  async write(path: string, content: Uint8Array | string): Promise<void> {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const target = join(this.dir, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, bytes);
    this.files.push({ path, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength });
  }

  async finish(content: Omit<DatasetManifest, 'id' | 'files' | 'counts'> & { counts: Omit<DatasetManifest['counts'], 'files'> }): Promise<DatasetManifest> {
    const files = [...this.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const body = { ...content, counts: { ...content.counts, files: files.length }, files };
    const manifest = { id: createHash('sha256').update(canonicalJson(body)).digest('hex'), ...body };
    await writeFile(join(this.dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  }
}
