/**
 * How many bytes `value` takes as JSON, counted up to `budget` (past it, any number above
 * `budget`): strings by their UTF-8 length, plus the quotes, brackets, colons and commas.
 * It walks the value with a stack of its own, so a value nested ten thousand arrays deep
 * (which `JSON.stringify` cannot serialize) is measured too, and it stops as soon as the
 * budget is spent, so a huge value costs no more than the budget to measure.
 */
export function jsonBytes(value: unknown, budget: number): number {
  let bytes = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0 && bytes <= budget) {
    const next = pending.pop();
    if (typeof next === 'string') bytes += Buffer.byteLength(next) + 2;
    else if (typeof next === 'number' || typeof next === 'boolean') bytes += String(next).length;
    else if (next === null || next === undefined) bytes += 4;
    else if (Array.isArray(next)) {
      bytes += 2 + Math.max(0, next.length - 1);
      // Past the budget nothing more is looked at, however large the rest.
      if (bytes > budget) break;
      for (const item of next) pending.push(item);
    } else if (typeof next === 'object') {
      bytes += 2;
      let separator = 0; // no comma before the first entry
      for (const key in next) {
        if (!Object.hasOwn(next, key)) continue;
        bytes += separator + Buffer.byteLength(key) + 3; // the quotes and the colon
        separator = 1;
        if (bytes > budget) break;
        pending.push((next as Record<string, unknown>)[key]);
      }
    }
  }
  return bytes;
}
