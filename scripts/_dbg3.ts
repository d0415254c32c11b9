import sharp from 'sharp';
import { writeFile } from 'node:fs/promises';
import { randomLines, renderDocument } from '../test/fixtures/documents.js';
function page(seed: number, fontSize: number, width: number, lines: number): string[] {
  const words = randomLines(seed, lines * 6).join(' ').split(' ');
  const perLine = Math.max(3, Math.round(width / (fontSize * 0.62 * 7)));
  return Array.from({ length: lines }, (_, i) => words.slice(i * perLine, (i + 1) * perLine).join(' '));
}
const p = await renderDocument({ lines: page(1, 32, 1200, 12), fontSize: 32, width: 1200 });
for (const w of [300, 360, 420, 480]) await writeFile(`/tmp/real/gen/tiny${w}.png`, await sharp(p).resize(w).png().toBuffer());
