/**
 * Python's and numpy's round(): halves go to the even neighbour, on both sides of zero. The models'
 * reference preprocessing (PaddleOCR, OpenCV's fixed-point weights) rounds this way, so ours must too.
 */
export function roundHalfEven(value: number): number {
  const rounded = Math.round(value);
  return Math.abs(value % 1) === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
}
