/**
 * The figures docs/operations.md quotes for "Exactly once": `visionops run` over generated pages
 * (default 200) with --out, killed with SIGKILL after 60 lines, started again and killed after 7
 * more, started a third time to the end, then a fourth time; it prints what each run left (lines
 * and bytes of --out), the summaries, and the records in the store, all and by distinct image.
 *
 *   node --import tsx scripts/measure-run-resume.ts              # 200 pages
 *   node --import tsx scripts/measure-run-resume.ts --pages 50
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openSqliteStores } from '../src/store/sqlite/index.js';
import { randomLines, renderDocument } from '../test/fixtures/documents.js';
import { visionops, visionopsKilledAfter } from '../test/helpers/cli.js';

const { values } = parseArgs({ options: { pages: { type: 'string', default: '200' } } });
const dir = mkdtempSync(join(tmpdir(), 'visionops-resume-'));
const images = join(dir, 'images');
const data = join(dir, 'data');
const out = join(dir, 'results.jsonl');
const args = ['run', images, '--data', data, '--out', out];
mkdirSync(images);
for (let i = 0; i < Number(values.pages); i++) {
  writeFileSync(join(images, `page-${String(i).padStart(3, '0')}.png`), await renderDocument({ lines: randomLines(i + 1, 5), width: 900 }));
}
const lines = () => readFileSync(out, 'utf8').trimEnd().split('\n');
const left = (what: string) => console.log(`${what}: --out has ${lines().length} lines, ${statSync(out).size} bytes`);

try {
  await visionopsKilledAfter(60, out, ...args);
  left('killed after 60 lines');
  await visionopsKilledAfter(67, out, ...args);
  left('started again, killed after 67 lines');
  for (const name of ['third run', 'fourth run']) {
    const run = await visionops(...args);
    console.log(`${name} (exit ${run.code}):\n${run.stdout.trim()}`);
    left(name);
  }
  const files = new Set(lines().map((line) => (JSON.parse(line) as { file: string }).file));
  const stores = openSqliteStores(join(data, 'visionops.db'));
  const records = await stores.predictions.list({ limit: 100_000 });
  await stores.close();
  console.log(`--out: ${lines().length} lines for ${files.size} files; store: ${records.length} records, ${new Set(records.map((r) => r.image.sha256)).size} distinct images`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
