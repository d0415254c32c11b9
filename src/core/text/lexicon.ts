import nspell from 'nspell';
import type { Lexicon } from './spelling.js';

/** What a lexicon is made of: the words it offers (in capitals) and Hunspell dictionaries whose words it knows. */
export interface LexiconSource {
  offered: string[];
  dictionaries: { aff: string; dic: string }[];
}

/** A Hunspell dictionary's checker: whether it accepts a word (with its inflections). */
export interface Speller {
  correct(word: string): boolean;
}

/** The checkers of Hunspell dictionaries, in their order (the American one took 543 ms to build here, timed once). */
export function spellersOf(dictionaries: LexiconSource['dictionaries']): Speller[] {
  return dictionaries.map(({ aff, dic }) => nspell(aff, dic));
}

/**
 * The lexicon of `source`, as a function adding a deployment's own `words`, known and offered
 * besides; `spellers` are its dictionaries' checkers when the caller built them already. The
 * server and the capture page build theirs from the same source (src/pipeline/lexicon.ts;
 * /web/models/lexicon.json).
 */
export function lexiconOf(source: LexiconSource, spellers: Speller[] = spellersOf(source.dictionaries)): (words?: readonly string[]) => Lexicon {
  const offered = new Set(source.offered);
  return (words = []) => {
    const own = new Set(words.map((word) => word.toUpperCase()));
    const offers = (word: string) => offered.has(word.toUpperCase()) || own.has(word.toUpperCase());
    return { offers, knows: (word) => offers(word) || spellers.some((speller) => speller.correct(word)) };
  };
}
