/**
 * Words a recogniser misread by one character, set right from its own runner-up and a lexicon:
 * "Totai" -> "Total", "amunt" -> "amount", "Septcmber" -> "September". Degraded typing and faint
 * thermal print break a glyph or two per word; the model usually ranks the true character second
 * on those steps. Only a word the lexicon does not know is touched, only into a word it offers,
 * and only with a character the model itself gave at least `least` of the chosen one's
 * probability there: a name, code or abbreviation the lexicon lacks stays as read unless the
 * model doubted it.
 */

/** A character the model ranked second, with its probability as a share of the chosen one's. */
export interface Alternative {
  character: string;
  share: number;
}

/** A character read, with what the model ranked second on its steps and on the blank steps before it. */
export interface ReadCharacter {
  character: string;
  /** The runner-up on the character's own steps: read in its place. */
  instead?: Alternative;
  /** The runner-up on the blank steps before it: a character the model nearly read there. */
  before?: Alternative;
}

export interface Lexicon {
  /** Whether a word (any case) is one of the language's: a word it knows stays as read. */
  knows(word: string): boolean;
  /** Whether a word (any case) is common enough to replace an unknown one. */
  offers(word: string): boolean;
}

export interface Spelling {
  lexicon: Lexicon;
  /** The least share of the chosen character's probability an alternative needs. */
  least: number;
  /** Words shorter than this many letters stay as read: abbreviations ("Amt", "SDN") are one letter from common words. */
  shortest: number;
}

const LETTER = /^\p{L}$/u;

function isLetter(character: string): boolean {
  return LETTER.test(character);
}

/** The alternative in the word's case at `at`: capitals in a word in capitals, small letters in one in small letters or after a capital initial. */
function cased(character: string, word: string, at: number): string {
  if (word === word.toUpperCase()) return character.toUpperCase();
  const rest = word.slice(1);
  if (word === word.toLowerCase() || (at > 0 && rest === rest.toLowerCase())) return character.toLowerCase();
  return character;
}

/** The best single-character change of `word` (letters only) into a word the lexicon offers, or null. */
function bestChange(word: ReadCharacter[], spelling: Spelling): string | null {
  const read = word.map((c) => c.character).join('');
  let best: string | null = null;
  let bestShare = 0;
  for (let i = 0; i < word.length; i++) {
    // In its place (the text resumes after it), or before it (the text resumes at it).
    for (const [alternative, resume] of [[word[i].instead, i + 1], [word[i].before, i]] as const) {
      if (alternative === undefined || alternative.share < spelling.least || !isLetter(alternative.character)) continue;
      if (best !== null && alternative.share <= bestShare) continue;
      const candidate = read.slice(0, i) + cased(alternative.character, read, i) + read.slice(resume);
      if (!spelling.lexicon.offers(candidate)) continue;
      best = candidate;
      bestShare = alternative.share;
    }
  }
  return best;
}

/**
 * The line's characters with each unknown word changed by one character where the model's own
 * runner-up makes it a word the lexicon offers (the most probable such change). Punctuation
 * around a word stays; a token holding digits or inner punctuation is not a word and stays.
 */
export function spellWords(characters: ReadCharacter[], spelling: Spelling): string {
  const out: string[] = [];
  let start = 0;
  for (let end = 0; end <= characters.length; end++) {
    if (end < characters.length && characters[end].character !== ' ') continue;
    let from = start;
    let to = end;
    while (from < to && !isLetter(characters[from].character)) from++;
    while (to > from && !isLetter(characters[to - 1].character)) to--;
    const word = characters.slice(from, to);
    const text = word.map((c) => c.character).join('');
    const change = word.length >= spelling.shortest && word.every((c) => isLetter(c.character)) && !spelling.lexicon.knows(text) ? bestChange(word, spelling) : null;
    for (let i = start; i < from; i++) out.push(characters[i].character);
    out.push(change ?? text);
    for (let i = to; i < end; i++) out.push(characters[i].character);
    if (end < characters.length) out.push(' ');
    start = end + 1;
  }
  return out.join('');
}
