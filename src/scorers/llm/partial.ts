import { withRowSignal } from "../../define/row-scope.js";
import type { Score } from "../../define/types.js";

type WithSignal = { signal?: AbortSignal | undefined };

/** A scorer with autoevals' `.partial(options)`: the same scorer with some arguments fixed in advance. */
export type PartialScorer<Args> = ((args: Args) => Promise<Score>) & {
  partial(options: Partial<Args>): PartialScorer<Args>;
};

/**
 * Names `fn` (the engine records a scorer's errors under its function name) and adds `.partial`. Arguments given
 * at call time win over fixed ones, except undefined ones: the engine passes `expected: undefined` for rows
 * without one, which must not erase an `expected` fixed with `.partial`.
 */
export function withPartial<Args extends object>(
  name: string,
  fn: (args: Args) => Promise<Score>,
): PartialScorer<Args> {
  const scorer = ((args: Args) => fn(withRowSignal(args as WithSignal) as Args)) as PartialScorer<Args>;
  Object.defineProperty(scorer, "name", { value: name, configurable: true });
  scorer.partial = (fixed: Partial<Args>) =>
    withPartial<Args>(name, (args: Args) => {
      const merged: Record<string, unknown> = { ...fixed };
      for (const key in args) {
        const value = (args as Record<string, unknown>)[key];
        if (value !== undefined) merged[key] = value;
      }
      // The engine's signal is a getter on its args' prototype (made on demand), which for...in does not list.
      const signal = (args as WithSignal).signal;
      if (signal !== undefined) merged.signal = signal;
      return fn(merged as Args);
    });
  return scorer;
}
