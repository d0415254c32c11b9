import { open, readFile, rename, truncate, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';

/** One line of `visionops run --out`: a file's record, or the error it met. */
export type ResultLine = { file: string } & ({ record: { id: string } } | { error: { code: string } });

/**
 * The `--out` file of `visionops run`, kept so that a run killed at any point and started again
 * ends with one line per file and no line lost. Complete lines already there are read first (a
 * torn last line, from a kill mid-write, is cut off); a file whose line already says the same
 * (the same record, or the same error) is not written again; a new file's line is appended with
 * one write, so what a kill leaves is at most one torn line. A file whose answer changed (an
 * error now predicted, a pipeline changed) has its line replaced when the run ends, by writing
 * the whole file beside it and renaming it over: the old file stays whole until then.
 *
 * Appending keeps each line's cost constant and the file readable while the run goes on
 * (`tail -f`); rewriting on every line would cost the whole file each time.
 */
export class ResultsFile {
  private replaced = false;

  private constructor(
    private readonly path: string,
    private readonly handle: FileHandle,
    /** Every line by the file it is for (resolved), in the order of the file; lines that are not a run's are kept as they are. */
    private readonly lines: Map<string, string>,
  ) {}

  static async open(path: string): Promise<ResultsFile> {
    const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    if (complete.length < text.length) await truncate(path, Buffer.byteLength(complete));
    const lines = new Map<string, string>();
    complete
      .split('\n')
      .filter((line) => line.length > 0)
      .forEach((line, index) => lines.set(fileOf(line) ?? `\0unread line ${index}`, line));
    return new ResultsFile(path, await open(path, 'a'), lines);
  }

  async write(value: ResultLine): Promise<void> {
    const file = resolve(value.file);
    const line = JSON.stringify(value);
    const existing = this.lines.get(file);
    if (existing !== undefined && sameOutcome(existing, value)) return;
    this.lines.set(file, line);
    if (existing === undefined) await this.handle.write(`${line}\n`);
    else this.replaced = true;
  }

  async close(): Promise<void> {
    await this.handle.sync();
    await this.handle.close();
    if (!this.replaced) return;
    const temporary = `${this.path}.${process.pid}.tmp`;
    const handle = await open(temporary, 'w');
    try {
      await handle.write([...this.lines.values()].map((line) => `${line}\n`).join(''));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, this.path);
  }
}

function parse(line: string): Partial<ResultLine> | null {
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' ? (value as Partial<ResultLine>) : null;
  } catch {
    return null;
  }
}

function fileOf(line: string): string | null {
  const file = parse(line)?.file;
  return typeof file === 'string' ? resolve(file) : null;
}

/** The same record, or an error with the same code. */
function sameOutcome(line: string, value: ResultLine): boolean {
  const old = parse(line) as Record<string, { id?: string; code?: string } | undefined> | null;
  if (old === null) return false;
  if ('record' in value) return old.record?.id === value.record.id;
  return old.error?.code === value.error.code;
}
