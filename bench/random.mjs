/**
 * A small seeded generator (mulberry32): the same values on every run, so a benchmark's inputs, and a failing
 * property or statistical check in the tests, reproduce. Uniform in [0, 1). Plain JavaScript, so that the bench
 * scripts (run by node as they are) and the tests (through test/helpers/random.ts) share one copy.
 * @param {number} seed
 * @returns {() => number}
 */
export function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
