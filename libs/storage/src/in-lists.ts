// Reads documents by `_id` in bounded `$in` lists, a few at once: what the stand-in serves from its `_id` index.
import { orUnavailable } from './storage-errors.js';

/**
 * `read` for each list of at most `size` ids, `atOnce` lists in flight; the documents in list order. A list's cost
 * on the stand-in grows faster than its length, so large id sets are read as many short lists.
 */
export async function readInLists<I, D>(
  ids: readonly I[],
  size: number,
  atOnce: number,
  read: (list: I[]) => Promise<D[]>,
): Promise<D[]> {
  const lists: I[][] = [];
  for (let i = 0; i < ids.length; i += size) lists.push(ids.slice(i, i + size));
  const found: D[] = [];
  for (let i = 0; i < lists.length; i += atOnce) {
    const docs = await orUnavailable(() => Promise.all(lists.slice(i, i + atOnce).map(read)));
    for (const list of docs) for (const d of list) found.push(d);
  }
  return found;
}
