/**
 * Python's and numpy's `round`, and C's `rint` in the default rounding mode (OpenCV's `cvRound`):
 * halves go to the even neighbour. Reference implementations round this way, so matching their
 * sizes and samples exactly needs it instead of Math.round. Never -0 (Python's round(-0.1) is 0).
 */
export function roundHalfEven(value: number): number {
  const rounded = Math.round(value);
  const even = Math.abs(value % 1) === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
  return even === 0 ? 0 : even;
}
