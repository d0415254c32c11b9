/**
 * Runs `work` on every item with at most `limit` under way at once, and hands each result to
 * `done` in the items' order (a result that finishes early waits for those before it). The first
 * error `work` or `done` throws stops new items from starting and is thrown once those under way
 * have settled.
 *
 * @example
 * await inOrderConcurrently(files, 4, (file) => predict(file), (record, file) => print(file, record));
 */
export async function inOrderConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
  done: (result: R, item: T, index: number) => void | Promise<void>,
): Promise<void> {
  const results = new Map<number, R>();
  let next = 0;
  let nextToHand = 0;
  let failure: { error: unknown } | undefined;
  let handing = Promise.resolve();

  const handOver = async () => {
    while (failure === undefined && results.has(nextToHand)) {
      const index = nextToHand++;
      const result = results.get(index) as R;
      results.delete(index);
      await done(result, items[index], index);
    }
  };

  const lane = async () => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        results.set(index, await work(items[index], index));
        handing = handing.then(handOver);
        await handing;
      } catch (error) {
        failure ??= { error };
      }
    }
  };

  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failure !== undefined) throw failure.error;
}
