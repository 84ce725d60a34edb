/**
 * Rounds to 12 significant digits: results that finish in another order (threads, concurrency, shards) must give
 * the same summaries and intervals, and float sums differ in their last bits with the order of their terms.
 */
export function stable(value: number): number {
  // Most scores are 0 or 1, and toPrecision costs ~1 µs: small integers are already what rounding would give.
  if (Number.isInteger(value) && Math.abs(value) < 1e12) return value === 0 ? 0 : value;
  const rounded = Number(value.toPrecision(12));
  return Object.is(rounded, -0) ? 0 : rounded;
}
