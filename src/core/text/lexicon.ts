import nspell from 'nspell';
import type { Lexicon } from './spelling.js';

/** What a lexicon is made of: the words it offers (in capitals) and Hunspell dictionaries whose words it knows. */
export interface LexiconSource {
  offered: string[];
  dictionaries: { aff: string; dic: string }[];
}

/**
 * The lexicon of `source`, built once (Hunspell's dictionaries take about half a second each), as
 * a function adding a deployment's own `words`, known and offered besides. The server and the
 * capture page build theirs from the same source (src/pipeline/lexicon.ts; /web/models/lexicon.json).
 */
export function lexiconOf(source: LexiconSource): (words?: readonly string[]) => Lexicon {
  const offered = new Set(source.offered);
  const spellers = source.dictionaries.map(({ aff, dic }) => nspell(aff, dic));
  return (words = []) => {
    const own = new Set(words.map((word) => word.toUpperCase()));
    const offers = (word: string) => offered.has(word.toUpperCase()) || own.has(word.toUpperCase());
    return { offers, knows: (word) => offers(word) || spellers.some((speller) => speller.correct(word)) };
  };
}
