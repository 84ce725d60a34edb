import type { Awaitable, Score } from "../define/types.js";
import type { ScorerInput } from "./heuristic/define.js";

/**
 * autoevals' `ScorerWithPartial<Output, Extra>`: a scorer of `{ output, expected }` and `Extra`, with `.partial()`
 * to fix some of its arguments in advance.
 */
// biome-ignore lint/suspicious/noExplicitAny: autoevals' default Output, kept so that its types port unchanged
export type ScorerWithPartial<Output = any, Extra = object> = ((
  args: ScorerInput<Output, Output> & Extra,
) => Awaitable<Score>) & {
  /** The options fixed become optional in calls. */
  partial<T extends keyof Extra>(
    fixed: {
      [K in T]: Extra[K];
    },
  ): ScorerWithPartial<Output, Omit<Extra, T> & Partial<Pick<Extra, T>>>;
};

/**
 * autoevals' `makePartial(fn, name)`: `fn` with `.partial()`. Arguments given at call time win over fixed ones,
 * except undefined ones (the engine passes `expected: undefined` for rows without one).
 */
// biome-ignore lint/suspicious/noExplicitAny: as ScorerWithPartial's
export function makePartial<Output = any, Extra = object>(
  fn: (args: ScorerInput<Output, Output> & Extra) => Awaitable<Score>,
  name?: string,
): ScorerWithPartial<Output, Extra> {
  type Args = ScorerInput<Output, Output> & Extra;
  const bound = (fixed: Partial<Extra>): ScorerWithPartial<Output, Extra> => {
    const scorer = ((args: Args) => {
      const merged: Record<string, unknown> = { ...fixed };
      for (const key in args) {
        const value = (args as Record<string, unknown>)[key];
        if (value !== undefined) merged[key] = value;
      }
      // The engine's signal is a getter on its args' prototype, which for...in does not list.
      if (args.signal !== undefined) merged.signal = args.signal;
      return fn(merged as Args);
    }) as ScorerWithPartial<Output, Extra>;
    Object.defineProperty(scorer, "name", { value: name ?? fn.name, configurable: true });
    // The fixed options' keys become optional; the function underneath is the same.
    scorer.partial = ((more: Partial<Extra>) => bound({ ...fixed, ...more })) as ScorerWithPartial<
      Output,
      Extra
    >["partial"];
    return scorer;
  };
  return bound({});
}
