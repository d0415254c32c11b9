/**
 * Pages of the kind people photograph and scan, for the measurement scripts: receipt, label and
 * form sentences with punctuation and symbols, in seven fonts (DejaVu Sans, Serif, Mono, Sans
 * Condensed; Arimo, Tinos, Cousine), 16-38 px, line spacing 1.4-2.0, off-white paper with
 * sensor grain, skew -1.5..1.5 degrees, JPEG quality 50-89. Seeds 110,000 + index, apart from the
 * tests' pages.
 */
import sharp from 'sharp';
import { seededRandom } from '../test/fixtures/documents.js';
import { FIXTURE_FONTS } from '../test/fixtures/fonts.js';

export interface GeneratedPage {
  lines: string[];
  font: string;
  fontSize: number;
  skew: number;
  quality: number;
  image: Buffer;
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const VARIED_FONTS = FIXTURE_FONTS;
const VARIED_SIZES = [16, 20, 24, 30, 38];

/** Sentences of the kind receipts, shipping labels, lab labels and forms carry; `pick` fills the blanks. */
const VARIED_LINES: ((pick: (n: number) => number) => string)[] = [
  (p) => `Thermal receipt, store ${String(p(9000) + 1000).padStart(4, '0')}, till ${p(9) + 1}`,
  (p) => `${p(4) + 1} x Sourdough loaf @ ${p(9) + 1}.${p(90) + 10} = ${p(40) + 2}.${p(90) + 10}`,
  (p) => `Oat milk latte (large) ${p(6) + 2}.${p(90) + 10}`,
  (p) => `Subtotal ${p(90) + 10}.${p(90) + 10} VAT ${[5, 7, 19, 20][p(4)]}% ${p(9) + 1}.${p(90) + 10}`,
  (p) => `TOTAL DUE EUR ${p(90) + 10}.${p(90) + 10} - card ****${p(9000) + 1000}`,
  (p) => `Thank you! Please come again before ${p(28) + 1}/${p(12) + 1}/2027.`,
  (p) => `Patient: ${['Miriam Okafor', 'Jonas Lindqvist', 'Priya Raman', 'Tomas Novak'][p(4)]}, DOB 19${p(50) + 50}-0${p(9) + 1}-1${p(9)}`,
  (p) => `Specimen ID LX-${p(90000) + 10000}-${'ABCD'[p(4)]} collected ${p(12) + 10}:${p(50) + 10}`,
  (p) => `Keep refrigerated between ${p(3) + 2} and ${p(4) + 6} C`,
  (p) => `Ship to: ${p(200) + 1} Quarry Lane, Unit ${p(9) + 1}B, Leeds LS${p(9) + 1} ${p(9) + 1}QT`,
  (p) => `Tracking number 1Z ${p(900) + 100} AA1 0${p(9)} ${p(9000) + 1000} ${p(9000) + 1000}`,
  (p) => `Weight ${p(9) + 1}.${p(9)} kg; dimensions ${p(50) + 10} x ${p(40) + 10} x ${p(30) + 5} cm`,
  (p) => `Form W-${p(90) + 10} section ${'ABCD'[p(4)]}: applicant signature required`,
  (p) => `Policy no. ${p(90) + 10}-${p(900) + 100}-${p(9000) + 1000} effective March ${p(27) + 1}, 2027`,
  (p) => `Questions? Call +44 113 ${p(900) + 100} ${p(9000) + 1000} or write to help@example.org`,
  (p) => `Batch 7Q${p(9)} expires 2028/0${p(9) + 1}; lot #A-${p(90000) + 10000}`,
  (p) => `Invoice INV-2026-${p(9000) + 1000} net ${[15, 30, 60][p(3)]} days`,
  (p) => `Meter reading 0${p(90000) + 10000} kWh at ${p(12) + 10}:${p(50) + 10} on 0${p(9) + 1} Dec`,
  () => 'Customs declaration: books, printed matter, no value',
  () => 'Fragile - this side up - handle with care',
];

/** The receipt, label or form page number `index`. */
export async function generateVariedPage(index: number): Promise<GeneratedPage> {
  const rand = seededRandom(110_000 + index);
  const pick = (n: number) => Math.floor(rand() * n);
  const lines = Array.from({ length: 4 + pick(5) }, () => VARIED_LINES[pick(VARIED_LINES.length)](pick));
  const font = VARIED_FONTS[index % VARIED_FONTS.length];
  const fontSize = VARIED_SIZES[pick(VARIED_SIZES.length)];
  const lineHeight = Math.round(fontSize * (1.4 + rand() * 0.6));
  const margin = Math.round(fontSize * 1.5);
  const longest = Math.max(...lines.map((line) => line.length));
  const width = Math.round(margin * 2 + longest * fontSize * 0.62);
  const height = margin * 2 + lineHeight * lines.length;
  const paper = '#fdfcf7';
  const texts = lines
    .map((line, i) => `<text x="${margin}" y="${margin + lineHeight * i + fontSize}" font-family="${font}" font-size="${fontSize}" fill="#1a1a1a">${escapeXml(line)}</text>`)
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="${paper}"/>${texts}</svg>`;
  const skew = rand() * 3 - 1.5;
  const flat = await sharp(Buffer.from(svg)).png().toBuffer();
  const { data, info } = await sharp(flat).rotate(-skew, { background: paper }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, data[i] + (rand() - 0.5) * 24));
  const quality = 50 + pick(40);
  const image = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } }).jpeg({ quality }).toBuffer();
  return { lines, font, fontSize, skew, quality, image };
}
