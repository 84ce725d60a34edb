import { describeValue } from "../../define/errors.js";
import type { Awaitable } from "../../define/types.js";

// The built-in scorers stay synchronous unless a scorer they are given returns a promise: the engine scores a
// row without a microtask when every scorer returns a value.

export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** Applies `fn` to a value, or to what a promise of it resolves to. */
export function andThen<T, R>(value: Awaitable<T>, fn: (value: T) => R): Awaitable<R> {
  return isPromiseLike(value) ? Promise.resolve(value).then(fn) : fn(value);
}

/**
 * Makes `count` values with `make`, then passes them all to `done`: at once when none is a promise, else once
 * all have settled.
 */
export function collect<T, R>(
  count: number,
  make: (index: number) => Awaitable<T>,
  done: (values: T[]) => R,
): Awaitable<R> {
  const values: Awaitable<T>[] = new Array(count);
  let pending = false;
  try {
    for (let i = 0; i < count; i++) {
      const value = make(i);
      if (isPromiseLike(value)) pending = true;
      values[i] = value;
    }
  } catch (error) {
    // The promises already made would otherwise reject with no handler and take the process down.
    for (const value of values) if (isPromiseLike(value)) Promise.resolve(value).catch(() => {});
    throw error;
  }
  return pending ? Promise.all(values).then(done) : done(values as T[]);
}

const RESULTS = "a number, a boolean, null or a { name, score } object";

/**
 * The number a scorer given as an option (a string scorer, a pairwise scorer) returned, whatever its shape;
 * null when it did not score.
 */
export function scoreValue(result: unknown, owner: string, option: string): number | null {
  let score: unknown = result;
  if (typeof result === "boolean") return result ? 1 : 0;
  if (typeof result === "object" && result !== null && !Array.isArray(result) && "score" in result) {
    score = (result as { score: unknown }).score;
  }
  if (score === null) return null;
  if (typeof score === "number" && Number.isFinite(score)) return score;
  throw new Error(`${owner}'s ${option} returned ${describeValue(result)}; it must return ${RESULTS}.`);
}
