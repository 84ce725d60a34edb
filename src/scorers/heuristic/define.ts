import { describeValue } from "../../define/errors.js";
import type { Awaitable, Score } from "../../define/types.js";
import {
  ARG_KEYS,
  checkCallOption,
  checkPartialOptions,
  type OptionKind,
  type OptionKinds,
} from "./options.js";

/**
 * What a built-in scorer is called with: the engine's scorer arguments, or only `{ output, expected }` when a
 * user calls it directly (`await Levenshtein({ output, expected })`).
 */
export interface ScorerInput<Output = unknown, Expected = unknown> {
  output: Output;
  expected?: Expected;
  input?: unknown;
  metadata?: unknown;
  tags?: string[];
  trialIndex?: number;
  signal?: AbortSignal;
}

/** A scorer given as an option to another (a string scorer, a pairwise scorer): any scorer of two values. */
export type PairScorer<T> = (args: { output: T; expected: T }) => Awaitable<Score | number | boolean | null>;

export type NoOptions = Record<never, never>;

/**
 * A built-in scorer. `Result` is `Score` for those that always return at once, `Score | Promise<Score>` for
 * those that wait only when an option (a scorer, a JSON schema) makes them; `await` works on both.
 */
export interface HeuristicScorer<
  Options extends object = NoOptions,
  Result extends Awaitable<Score> = Score,
> {
  (args: ScorerInput & Options): Result;
  /** The same scorer with these options bound; options given in a call override them. */
  partial(options: Options & Partial<ScorerInput>): HeuristicScorer<Options, Result>;
}

export interface ScorerSpec<Options extends object> {
  name: string;
  options: OptionKinds<Options>;
  score(args: ScorerInput, options: Options): Awaitable<Score>;
  /** Runs once per `.partial()`, with the options bound so far (e.g. to start loading what they need). */
  prepare?(options: Options): void;
}

export function defineScorer<Options extends object, Result extends Awaitable<Score> = Score>(
  spec: ScorerSpec<Options>,
): HeuristicScorer<Options, Result> {
  return bind<Options, Result>(spec, {} as Options, undefined);
}

function bind<Options extends object, Result extends Awaitable<Score>>(
  spec: ScorerSpec<Options>,
  bound: Options,
  boundArgs: Record<string, unknown> | undefined,
): HeuristicScorer<Options, Result> {
  const kinds = spec.options as Record<string, OptionKind>;
  const keys = Object.keys(kinds);
  const scorer = (args: ScorerInput & Options): Result => {
    if (typeof args !== "object" || args === null) {
      throw new TypeError(
        `${spec.name} takes one argument, { output, expected }, and was called with ${describeValue(args)}.`,
      );
    }
    let options = bound;
    for (const key of keys) {
      const value = (args as Record<string, unknown>)[key];
      if (value === undefined) continue;
      checkCallOption(spec.name, key, value, kinds[key] as OptionKind);
      if (options === bound) options = { ...bound };
      (options as Record<string, unknown>)[key] = value;
    }
    return spec.score(boundArgs ? withBound(args, boundArgs) : args, options) as Result;
  };
  Object.defineProperty(scorer, "name", { value: spec.name, configurable: true });
  const partial = (more: Options & Partial<ScorerInput>): HeuristicScorer<Options, Result> => {
    checkPartialOptions(spec.name, kinds, more);
    const nextOptions: Record<string, unknown> = { ...(bound as Record<string, unknown>) };
    let nextArgs = boundArgs;
    for (const [key, value] of Object.entries(more)) {
      if (value === undefined) continue;
      if (ARG_KEYS.has(key)) {
        nextArgs = { ...nextArgs, [key]: value };
      } else {
        nextOptions[key] = value;
      }
    }
    spec.prepare?.(nextOptions as Options);
    return bind<Options, Result>(spec, nextOptions as Options, nextArgs);
  };
  return Object.assign(scorer, { partial });
}

// Arguments bound with .partial() fill in those the call leaves undefined. The signal stays a getter: the
// engine makes the row's AbortController only when something reads it.
function withBound(args: ScorerInput, bound: Record<string, unknown>): ScorerInput {
  const pick = <T>(key: keyof ScorerInput): T => (args[key] === undefined ? bound[key] : args[key]) as T;
  return {
    input: pick("input"),
    output: pick("output"),
    expected: pick("expected"),
    metadata: pick("metadata"),
    tags: pick("tags"),
    trialIndex: pick("trialIndex"),
    get signal() {
      return pick<AbortSignal | undefined>("signal");
    },
  };
}

/** The row's expected value; a scorer that compares with it cannot score a row without one. */
export function requireExpected(name: string, args: ScorerInput): unknown {
  if (args.expected === undefined) {
    throw new Error(
      `${name} requires an expected value, and this row has none (its \`expected\` is undefined).`,
    );
  }
  return args.expected;
}
