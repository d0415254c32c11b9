/**
 * Character-class context for a recognised line: the recogniser reads each glyph alone, and on
 * real prints a digit zero and a letter O (or a one and an I or l) are one shape. Its neighbours
 * say which was meant: an amount is all digits, a word all letters. Only tokens that are otherwise
 * wholly of one class change, so codes that mix letters and digits ("BWM0034", "RM10.50") stay
 * as read. Two more rules of the same kind: an amount's cents parted from its point are joined
 * ("12. 90"), and underscores, a form's fill-in rules, part words. Measured on real receipts and
 * forms in docs/real-world.md.
 */

/** Letters the recogniser confuses with a digit, and that digit. */
const DIGIT_OF: Readonly<Record<string, string>> = { O: '0', o: '0', I: '1', l: '1' };

/** Punctuation that may sit inside or around a number: amounts, dates, times, percentages. */
const NUMBER_PUNCTUATION = /[.,:;/\-$%()#+*]/g;

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

/**
 * "1O.5O" -> "10.50", "4750O" -> "47500", "I05" -> "105": a token whose characters, punctuation
 * aside, are digits and letters that look like digits, with at least two real digits and no fewer
 * digits than look-alikes, is a number.
 */
function asNumber(token: string): string {
  const core = token.replace(NUMBER_PUNCTUATION, '');
  if (core === '' || !/^[0-9OoIl]+$/.test(core)) return token;
  const digits = count(core, /[0-9]/g);
  if (digits < 2 || digits < core.length - digits) return token;
  return token.replace(/[OoIl]/g, (c) => DIGIT_OF[c]);
}

/**
 * "INV0ICE" -> "INVOICE", "0VER" -> "OVER": a token of capital letters whose only digits are
 * zeros, no more than its letters, is a word ("N0:" -> "NO:").
 */
function asWord(token: string): string {
  const core = token.replace(/[^A-Za-z0-9]/g, '');
  if (!/^[A-Z0]+$/.test(core) || !core.includes('0')) return token;
  const zeros = count(core, /0/g);
  return zeros <= core.length - zeros ? token.replace(/0/g, 'O') : token;
}

/**
 * Underscores are a form's fill-in rules the recogniser read as text: alone ("DATE: ____"), at a
 * word's edge ("DATE:____") or under the spaces of what was typed on the rule ("SAN_DIEGO_UNION").
 * They part words; measured on scanned forms, reading them as spaces gained more than keeping
 * the rare underscore a receipt prints inside a code.
 */
function withoutFillRules(text: string): string {
  return text.replace(/_+/g, ' ');
}

/**
 * "12. 90" -> "12.90": an amount's cents parted from its decimal point. Amounts are printed with
 * the point between two digits; a space the recogniser writes after it (the point's narrow glyph
 * leaves a wide gap on letter-spaced print) is no word break when exactly two digits follow.
 */
function withCentsJoined(text: string): string {
  return text.replace(/(\d\.) (\d{2})(?=\s|$)/g, '$1$2');
}

/** A recognised line with fill-in rules dropped and each token read in its character class's context. */
export function inCharacterContext(text: string): string {
  return withCentsJoined(withoutFillRules(text))
    .split(/\s+/)
    .filter((token) => token !== '')
    .map((token) => asWord(asNumber(token)))
    .join(' ');
}
