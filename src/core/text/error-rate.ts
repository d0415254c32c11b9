/** Levenshtein distance over characters (code points): insertions, deletions and substitutions. */
export function editDistance(reference: string, hypothesis: string): number {
  const a = [...reference];
  const b = [...hypothesis];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** Character error rate: the edit distance divided by the reference's length (1 for text where none was expected). */
export function characterErrorRate(reference: string, hypothesis: string): number {
  const length = [...reference].length;
  if (length === 0) return hypothesis.length === 0 ? 0 : 1;
  return editDistance(reference, hypothesis) / length;
}
