/**
 * The shapes users write, kept close to Braintrust's `Eval()` and autoevals' scorers so that their eval files
 * run here with an import change.
 */
import type { PromptParameter } from "./prompt-parameter.js";
import type { Span } from "./tracing.js";

export type Awaitable<T> = T | Promise<T>;

export type Metadata = Record<string, unknown>;

/** Braintrust's names: metadata is an object, or `void` for "none" (then typed as an object of any fields). */
// biome-ignore lint/suspicious/noConfusingVoidType: Braintrust's spelling of "no metadata type", which ported files use
export type BaseMetadata = Record<string, unknown> | void;
// biome-ignore lint/suspicious/noConfusingVoidType: as BaseMetadata
export type DefaultMetadataType = void;

/**
 * The metadata a task or scorer is given: the rows' type, and for Braintrust's `void` ("none") an object of any
 * fields. `Meta &`, not a conditional type over `Meta`: one stays unresolved for a type parameter, and code generic
 * over the metadata (`<M extends { lang: string }>`, passing `hooks.metadata` on as `M`) then failed. The cost:
 * `void` metadata reads and writes fields but cannot be spread (`{ ...metadata }`), and Braintrust's
 * `BaseMetadata` union (`Record | void`) as a type argument reads as that union. A typo in a typed field
 * (`metadata.lnag`) is still an error.
 */
export type MetadataOf<Meta> = Meta & ([Meta] extends [Nothing] ? Metadata : unknown);

// biome-ignore lint/suspicious/noConfusingVoidType: Braintrust's "no metadata" is `void` (see BaseMetadata)
type Nothing = void;

/**
 * One dataset row. `undefined` is accepted for each optional field (`exactOptionalPropertyTypes` projects write
 * `expected: undefined`, as Braintrust's types make them).
 */
export interface EvalCase<Input = unknown, Expected = unknown, Meta = Metadata> {
  input: Input;
  expected?: Expected | undefined;
  metadata?: Meta | undefined;
  tags?: string[] | undefined;
  /** Stable identity of the row across runs (used to match rows against a baseline); a number counts as its text. */
  id?: string | number | undefined;
  /** How many times this row runs, instead of the eval's `trialCount` (Braintrust's; `--trials` beats both). */
  trialCount?: number | undefined;
}

/** A named score in [0, 1]; `score: null` means "not scored". */
export interface Score {
  name: string;
  score: number | null;
  metadata?: Record<string, unknown>;
  /** autoevals' deprecated field, accepted so that its scorers' code type-checks; not recorded (throw instead). */
  error?: unknown;
}

export interface ScorerArgs<Input = unknown, Output = unknown, Expected = unknown, Meta = Metadata> {
  input: Input;
  output: Output;
  /**
   * The row's `expected`, typed as the rows give it (as Braintrust does), so that `expected.trim()` type-checks
   * in an eval whose rows all have one. A row without one passes `undefined`; evalrun's own scorers say so.
   */
  expected: Expected;
  metadata: MetadataOf<Meta>;
  tags: string[];
  trialIndex: number;
  signal: AbortSignal;
  /** The row's `id`, when the data gives one (as Braintrust passes it). */
  id?: string | undefined;
}

/**
 * A score as a scorer may return it: its name (the scorer's when left out), and a score in [0, 1], a boolean as
 * 1 / 0, or `null` / `undefined` for "not scored" (README's scorer table). `Score`, which built-in scorers return,
 * is one of these.
 */
export interface ScoreObject {
  name?: string | undefined;
  score: number | boolean | null | undefined;
  metadata?: Record<string, unknown> | undefined;
  /** autoevals' deprecated field (see Score.error). */
  error?: unknown;
}

/** Several scores need their names: unnamed, each would take the scorer's and hide the others. */
export type ScorerResult = number | boolean | ScoreObject | Array<ScoreObject & { name: string }> | null;

// biome-ignore lint/suspicious/noExplicitAny: scorers written for autoevals take loosely typed arguments
export type Scorer<Input = any, Output = any, Expected = any, Meta = any> = (
  args: ScorerArgs<Input, Output, Expected, Meta>,
) => Awaitable<ScorerResult>;

/** Braintrust's names for a scorer and its arguments, so that files ported from it type-check unchanged. */
// biome-ignore lint/suspicious/noExplicitAny: as Scorer's, for the same reason
export type EvalScorer<Input = any, Output = any, Expected = any, Meta = any> = Scorer<
  Input,
  Output,
  Expected,
  Meta
>;
export type EvalScorerArgs<
  Input = unknown,
  Output = unknown,
  Expected = unknown,
  Meta = Metadata,
> = ScorerArgs<Input, Output, Expected, Meta>;

/** `T`, but not a place TypeScript infers `T` from (TypeScript 5.4's NoInfer, for older compilers too). */
type FromElsewhere<T> = [T][T extends unknown ? 0 : never];

/** Braintrust's classifier (its `classifiers`, which evalrun names in the run's notes and does not run). */
export type EvalClassifier<Input = unknown, Output = unknown, Expected = unknown, Meta = Metadata> = (
  args: ScorerArgs<Input, Output, Expected, Meta>,
) => unknown;

/** The second argument of a task. */
export interface EvalHooks<Expected = unknown, Meta = Metadata, Parameters = EvalParameters> {
  /** The row's metadata; mutations are kept on the row's result. */
  metadata: MetadataOf<Meta>;
  /** The row's `expected` (see ScorerArgs.expected). */
  expected: Expected;
  /** The row's tags; push to add tags to the row's result. */
  tags: string[];
  /** 0-based index of this trial of the row (see `trialCount`). */
  trialIndex: number;
  /** Aborted when the row times out or the run is interrupted; pass it to fetch and SDK calls. */
  signal: AbortSignal;
  /** Merges fields into the row's metadata (as Braintrust's `hooks.meta`). */
  meta(fields: Record<string, unknown>): void;
  /**
   * Braintrust's task span. evalrun records no spans: `span.log({ metadata })` merges into the row's metadata, and
   * everything else a span does (child spans, `traced`, other fields) runs and records nothing.
   */
  span: Span;
  /**
   * The values of the evaluator's `parameters` (Braintrust's): each zod schema's default, each `{ default }`'s
   * default, any other value as it is. Locally nothing overrides them.
   */
  parameters: InferParameters<Parameters>;
  /** Braintrust's progress events for its playground; evalrun has no playground, and ignores them. */
  reportProgress(event: unknown): void;
}

type DataSource<T> = T[] | Iterable<T> | AsyncIterable<T>;

export type EvalData<Input, Expected, Meta> =
  | DataSource<EvalCase<Input, Expected, Meta>>
  | Promise<DataSource<EvalCase<Input, Expected, Meta>>>
  | (() => Awaitable<DataSource<EvalCase<Input, Expected, Meta>>>);

/** An evaluator's `parameters`: zod schemas (with defaults), `{ default }` objects, or plain values. */
export type EvalParameters = Record<string, unknown>;

/** What a task's `hooks.parameters` holds for one parameter (see Evaluator.parameters). */
type ParameterValue<P> = P extends { _output: infer Out }
  ? Out
  : P extends { type: "prompt" }
    ? PromptParameter
    : P extends { type: "model" }
      ? string
      : P extends { default: infer D }
        ? D
        : P;

/** The values `hooks.parameters` holds for an evaluator's `parameters` (Braintrust's InferParameters). */
export type InferParameters<Parameters> = { [K in keyof Parameters]: ParameterValue<Parameters[K]> };

export type EvalTask<Input, Output, Expected, Meta, Parameters = EvalParameters> = (
  input: Input,
  hooks: EvalHooks<Expected, Meta, Parameters>,
) => Awaitable<Output>;

export interface Evaluator<
  Input = unknown,
  Output = unknown,
  Expected = unknown,
  Meta = Metadata,
  Parameters = EvalParameters,
> extends BraintrustServiceKeys {
  data: EvalData<Input, Expected, Meta>;
  task: EvalTask<Input, Output, Expected, Meta, Parameters>;
  /**
   * `Input` is inferred from `data` and `task`, not from scorers: a built-in scorer takes any input, and inferring
   * from it made `data: loadJsonl(file)`'s `input` unknown in the task, where it is any.
   */
  scores: Scorer<FromElsewhere<Input>, Output, Expected, Meta>[];
  /** Name of this run; by default `<eval name>-<timestamp>`. */
  experimentName?: string;
  description?: string;
  /** Metadata of the experiment (not of each row). */
  metadata?: Record<string, unknown>;
  tags?: string[];
  /** How many times each row runs (default 1). */
  trialCount?: number;
  /** Rows of this eval in flight at once (default 10). */
  maxConcurrency?: number;
  /** Per-row time limit in ms (task and scorers); the row's signal aborts and the row records a timeout. */
  timeout?: number;
  /** Compare with this experiment (a name or id of this eval) instead of the newest complete one. */
  baseExperimentName?: string;
  /** Braintrust's spelling of the same, by id. */
  baseExperimentId?: string;
  /** Minimum mean per score, e.g. `{ Factuality: 0.8 }`: a score below its minimum fails the run. */
  thresholds?: Record<string, number>;
  /**
   * Braintrust's task parameters: zod schemas with defaults, `{ default }` objects, `{ type: "prompt" }` prompts or
   * plain values; the task gets their values, typed, as `hooks.parameters`.
   */
  parameters?: Parameters;
  /**
   * Braintrust's: scores for a row whose task failed, or whose scorers threw (`unhandledScores` names them); e.g.
   * `defaultErrorScoreHandler`, which gives each 0 so that errored rows count against the means. The row stays
   * an error.
   */
  errorScoreHandler?: ErrorScoreHandler;
}

/** What Braintrust's `errorScoreHandler` is given and returns. */
export type ErrorScoreHandler = (args: {
  rootSpan: Span;
  // biome-ignore lint/suspicious/noExplicitAny: Braintrust's own signature, so that its handlers type-check here
  data: EvalCase<any, any, any>;
  unhandledScores: string[];
  // biome-ignore lint/suspicious/noConfusingVoidType: Braintrust's signature; a handler that returns nothing must type-check
}) => Record<string, number | null> | undefined | void;

/**
 * Braintrust's evaluator keys that concern only its service: accepted so that a ported file type-checks, and
 * ignored (projects, sharing, git settings, span flushing; `classifiers` and `signal` are named in the run's notes).
 */
export interface BraintrustServiceKeys {
  projectId?: string;
  isPublic?: boolean;
  update?: boolean;
  state?: unknown;
  gitMetadataSettings?: unknown;
  repoInfo?: unknown;
  summarizeScores?: boolean;
  flushBeforeScoring?: boolean;
  classifiers?: unknown[];
  signal?: AbortSignal;
}

/** An eval as the loader found it. */
export interface EvalDefinition {
  name: string;
  evaluator: Evaluator<unknown, unknown, unknown, Metadata>;
  /** Absolute path of the source file that registered it, when known. */
  file: string | undefined;
  /** The compiled bundle it was loaded from (worker threads import it themselves). */
  bundle?: string | undefined;
  /** How long importing its file took in the main thread, in ms: what a worker thread's import is judged by. */
  loadMs?: number | undefined;
  /** The name of a Braintrust reporter given as Eval()'s third argument (never run: the run's notes say so). */
  reporter?: string | undefined;
}
