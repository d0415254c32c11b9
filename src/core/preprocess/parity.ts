import { VisionopsError } from '../errors.js';

export interface TensorDifference {
  /** Largest absolute difference of any element. */
  max: number;
  mean: number;
  /** Elements differing by more than the tolerance. */
  over: number;
  /** The first element (C order) differing by more than the tolerance, with its index per dimension; null when none does. */
  first: { index: number; at: number[]; ours: number; reference: number } | null;
}

/**
 * How far a tensor visionops made is from a reference tensor of the same shape (a training
 * script's, read from .npy): what `visionops parity` reports and fails on.
 *
 * @example compareTensors(ours.data, reference.data, [3, 224, 224], 1 / 255) // { max: 0, mean: 0, over: 0, first: null }
 */
export function compareTensors(ours: ArrayLike<number>, reference: ArrayLike<number>, dims: number[], tolerance: number): TensorDifference {
  const count = dims.reduce((product, side) => product * side, 1);
  if (ours.length !== count || reference.length !== count) {
    throw new VisionopsError(
      'INVALID_REQUEST',
      `The tensors hold ${ours.length} and ${reference.length} values, not the ${count} of shape (${dims.join(', ')}): save the reference without its batch dimension, at the model's input size.`,
      { dims, ours: ours.length, reference: reference.length },
    );
  }
  let max = 0;
  let total = 0;
  let over = 0;
  let firstIndex = -1;
  for (let i = 0; i < count; i++) {
    const difference = Math.abs(ours[i] - reference[i]);
    total += difference;
    // NaN on either side counts as over any tolerance.
    if (!(difference <= tolerance)) {
      over++;
      if (firstIndex < 0) firstIndex = i;
    }
    if (difference > max || Number.isNaN(difference)) max = difference;
  }
  const first =
    firstIndex < 0
      ? null
      : { index: firstIndex, at: indexToCoordinates(firstIndex, dims), ours: ours[firstIndex], reference: reference[firstIndex] };
  return { max, mean: count === 0 ? 0 : total / count, over, first };
}

function indexToCoordinates(index: number, dims: number[]): number[] {
  const at = new Array<number>(dims.length);
  for (let d = dims.length - 1, rest = index; d >= 0; d--) {
    at[d] = rest % dims[d];
    rest = Math.floor(rest / dims[d]);
  }
  return at;
}
