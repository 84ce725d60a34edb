// The global `performance` is a getter that runs on every access (~0.1-0.4 us); once per row it showed in W2.
import { AsyncLocalStorage } from "node:async_hooks";
import { setMaxListeners } from "node:events";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { describeValue } from "../define/errors.js";
import { parameterValues } from "../define/parameters.js";
import { rowScope } from "../define/row-scope.js";
import { NOOP_SPAN, rowSpan, type Span } from "../define/tracing.js";
import type { EvalCase, EvalHooks, Evaluator, Metadata, Scorer, ScorerArgs } from "../define/types.js";
import { takeUsage } from "../define/usage.js";
import { withoutSecrets } from "../util/secrets.js";
import { userFrame } from "../util/stack.js";
import { storableJson } from "../util/storable-json.js";
import { resultId } from "./row-id.js";
import { normalizeScore } from "./scores.js";
import { holdSlot, settledWithin } from "./slot-hold.js";
import { INPUT_DIGEST, type RowError, type RowResult } from "./types.js";

export interface ItemContext {
  evaluator: Evaluator<unknown, unknown, unknown, Metadata>;
  /** Name for each scorer's bare values, by index. */
  scorerNames: string[];
  timeout: number | undefined;
  /** Fires when an interrupted run stops waiting for in-flight rows; their results are dropped. */
  hardStop: AbortSignal;
}

/** One (row, trial) to run. */
export interface WorkItem {
  row: EvalCase;
  key: string;
  rowIndex: number;
  trial: number;
  /** SHA-1 of the input's JSON, when the input is a string (the store reuses it to keep the input once). */
  digest?: string | undefined;
  /** --retry-errors: what this row's task gave in the run being repaired, when only a scorer failed there. */
  prior?: PriorRun | undefined;
}

/**
 * A row's earlier run whose task finished but whose scorers did not all: its output is scored again and its task
 * does not run (a judge that hit a rate limit must not cost a new, possibly different, answer).
 */
export interface PriorRun {
  output: unknown;
  metadata: Record<string, unknown>;
  tags: string[];
  metrics: RowResult["metrics"];
}

/** A result now, a result later, or nothing (the run was hard-stopped before the row finished). */
export type ItemOutcome = RowResult | Promise<RowResult | undefined> | undefined;

/** Runs one (row, trial) somewhere: in this thread (runItem) or in a worker (the pool). */
export type Execute = (item: WorkItem) => ItemOutcome;

/**
 * An error as one line: an Error's name and message, with its `cause` (fetch's "fetch failed" keeps the reason
 * there: ECONNREFUSED, a certificate); any other thrown value with what it holds, since `throw { status: 429 }`
 * and `Promise.reject("quota")` carry their whole meaning in the value.
 */
function errorText(error: unknown, depth = 0): string {
  if (!(error instanceof Error)) return thrownValue(error);
  const cause = error.cause;
  const because = cause === undefined || depth >= 3 ? "" : ` (cause: ${errorText(cause, depth + 1)})`;
  // Promise.any's AggregateError (several providers tried, each failed) says nothing without its errors.
  const inner =
    error instanceof AggregateError && Array.isArray(error.errors) && error.errors.length > 0 && depth < 3
      ? ` (errors: ${error.errors
          .slice(0, 5)
          .map((e) => errorText(e, depth + 1))
          .join("; ")}${error.errors.length > 5 ? `; and ${error.errors.length - 5} more` : ""})`
      : "";
  return `${error.name}: ${error.message}${inner}${because}`;
}

const PREVIEW_CHARS = 300;

function thrownValue(value: unknown): string {
  // Redacted before the cut: a key cut in two no longer matches, and its first part would be shown and stored.
  const preview = (whole: string) => {
    const text = withoutSecrets(whole);
    return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
  };
  if (typeof value === "string") return `the string ${JSON.stringify(preview(value))}`;
  if (typeof value === "object" && value !== null) {
    return `${describeValue(value)} ${preview(storableJson(value) ?? "")}`;
  }
  return describeValue(value);
}

/** A task's error as recorded: with the environment's secrets taken out (an SDK's 401 often quotes the key). */
export function taskError(error: unknown): RowError {
  const stack = error instanceof Error ? error.stack : undefined;
  return {
    kind: "task",
    message: withoutSecrets(error instanceof Error ? errorText(error) : `threw ${errorText(error)}`),
    stack: stack === undefined ? undefined : withoutSecrets(stack),
  };
}

/** What threw (a scorer, the errorScoreHandler), what, and where in the user's code. */
function thrownBy(who: string, error: unknown): string {
  const frame = error instanceof Error ? userFrame(error) : undefined;
  // Relative to the working directory when under it, as task errors' locations are shown.
  const relative = frame ? path.relative(process.cwd(), frame.file) : "";
  const file = relative === "" || relative.startsWith("..") ? frame?.file : relative;
  return withoutSecrets(
    `${who} threw ${errorText(error)}${frame ? ` (at ${file}:${frame.line}:${frame.column})` : ""}`,
  );
}

const scorerError = (name: string, error: unknown) => thrownBy(`Scorer "${name}"`, error);

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";

/** A scorer that threw (sync or async), kept apart from the values scorers return. */
class Thrown {
  constructor(readonly error: unknown) {}
}

/** Which row's task or scorer runs synchronously now (LLM judges called with spread args take its signal). */
const scope = rowScope();
const AsyncFunction = (async () => {}).constructor;

const settle = (value: unknown): unknown =>
  isThenable(value) ? Promise.resolve(value).then(undefined, (error: unknown) => new Thrown(error)) : value;

/**
 * The second argument of a task; a class so that each row allocates one small object, not a set of closures. The
 * row is a private field: users log and spread hooks, which must hold only the documented fields.
 */
class Hooks implements EvalHooks {
  readonly #run: RowRun;

  constructor(
    run: RowRun,
    // Not readonly: Braintrust reads hooks.metadata back after the task, so a task may replace it (see RowRun).
    public metadata: Record<string, unknown>,
    readonly expected: unknown,
    readonly tags: string[],
    readonly trialIndex: number,
  ) {
    this.#run = run;
  }

  get signal(): AbortSignal {
    return this.#run.signal;
  }

  get parameters(): Record<string, unknown> {
    // Checked as the file loaded: a parameter without a value failed its eval then.
    return parameterValues(this.#run.ctx.evaluator, "");
  }

  /** Braintrust's playground progress: nothing here listens. */
  reportProgress(): void {}

  /**
   * Braintrust's task span: evalrun records no spans, so it records nothing, except that what it is given as
   * `metadata` merges into the row's metadata, as hooks.meta() would.
   */
  get span(): Span {
    const metadata = this.metadata;
    return rowSpan((fields) => {
      Object.assign(metadata, fields);
    });
  }

  /** A getter, so that `({ meta }) => meta({...})` (destructured, as Braintrust's hooks allow) still has its row. */
  get meta(): (fields: Record<string, unknown>) => void {
    const metadata = this.metadata;
    return (fields) => {
      if (typeof fields !== "object" || fields === null || Array.isArray(fields))
        throw new TypeError(
          `hooks.meta() takes an object of fields to merge into the row's metadata, e.g. meta({ model: "gpt-4o" }); it was given ${describeValue(fields)}.`,
        );
      Object.assign(metadata, fields);
    };
  }
}

/**
 * What each scorer of a row receives; a class so that its signal getter lives on the prototype, not per row. The
 * row is a private field, so that `JSON.stringify(args)` and `{ ...args }` see only the documented fields.
 */
class Args implements ScorerArgs {
  readonly #run: RowRun;
  readonly input: unknown;
  readonly expected: unknown;
  readonly metadata: Record<string, unknown>;
  readonly tags: string[];
  readonly trialIndex: number;
  // Set only for a row with an id: args of other rows hold no `id` key (their JSON and spreads stay as they were).
  declare readonly id?: string;

  constructor(
    run: RowRun,
    readonly output: unknown,
  ) {
    this.#run = run;
    const id = run.item.row.id;
    if (id != null) (this as { id?: string }).id = String(id);
    this.input = run.item.row.input;
    this.expected = run.item.row.expected;
    this.metadata = run.metadata;
    this.tags = run.tags;
    this.trialIndex = run.item.trial;
  }

  get signal(): AbortSignal {
    return this.#run.signal;
  }
}

/** The state of one (row, trial) while it runs. */
class RowRun {
  // An AbortController costs more than a trivial task; most tasks never read the signal, so it is made on demand.
  private controller: AbortController | undefined;
  private onHardStop: (() => void) | undefined;
  readonly start = Date.now();
  readonly t0 = performance.now();
  metadata: Record<string, unknown>;
  readonly tags: string[];
  readonly hooks: Hooks;
  phase: "task" | "scoring" = "task";
  /** With a timeout: ms the task's and the scorers' synchronous parts held the thread (what no timer can cut). */
  taskBlocked = 0;
  scorersBlocked = 0;
  /** Why the row was cut off (its timeout, the run's hard stop): its result is recorded already. */
  cutReason: Error | undefined;
  private errorScoresHandled = false;
  output: unknown;
  failure: RowError | undefined;
  scores: Record<string, number | null> = {};
  scoreErrors: Record<string, string> | undefined;
  scoreMetadata: Record<string, Record<string, unknown>> | undefined;

  constructor(
    readonly ctx: ItemContext,
    readonly item: WorkItem,
  ) {
    const row = item.row;
    // A re-scored row keeps what its task left: the metadata and tags it set are part of its result.
    const source = item.prior ?? row;
    this.metadata = source.metadata ? { ...source.metadata } : {};
    this.tags = source.tags ? [...source.tags] : [];
    this.hooks = new Hooks(this, this.metadata, row.expected, this.tags, item.trial);
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      // A task may hand its signal to many requests at once (each adds a listener); Node would warn past 10.
      setMaxListeners(0, this.controller.signal);
      // Read first after its row was cut off (a task's second request, after an await): already aborted.
      if (this.cutReason !== undefined) {
        this.controller.abort(this.cutReason);
        return this.controller.signal;
      }
      // A row without a timeout is not raced against the hard stop, yet its signal must still say the run ended
      // (a watch-mode restart, Ctrl-C after the grace period); only rows that read the signal pay for this.
      const stop = this.ctx.hardStop;
      if (stop.aborted) this.controller.abort(new Error("evalrun: the run was interrupted"));
      else {
        this.onHardStop = () => this.abort(new Error("evalrun: the run was interrupted"));
        stop.addEventListener("abort", this.onHardStop, { once: true });
      }
    }
    return this.controller.signal;
  }

  abort(reason: Error): void {
    this.cutReason ??= reason;
    this.controller?.abort(reason);
  }

  /** Runs the task, then the scorers; synchronous all the way when they are. */
  execute(): RowResult | Promise<RowResult> {
    if (this.item.prior !== undefined) return this.score(this.item.prior.output);
    let output: unknown;
    const timed = this.ctx.timeout !== undefined;
    const began = timed ? performance.now() : 0;
    scope.current = this;
    try {
      output = this.ctx.evaluator.task(this.item.row.input, this.hooks);
    } catch (error) {
      scope.current = undefined;
      if (timed) this.taskBlocked = performance.now() - began;
      this.failure = taskError(error);
      return this.result(false);
    }
    scope.current = undefined;
    if (timed) this.taskBlocked = performance.now() - began;
    if (isThenable(output)) {
      return Promise.resolve(output).then(
        // A task that ignored the hard stop (a watch-mode restart, Ctrl-C's grace over) still finishes: its result
        // is dropped, so its scorers (paid LLM judges) are not run on it.
        // A row cut off by its timeout is recorded already: its late output is not scored either.
        (value) =>
          this.ctx.hardStop.aborted || this.cutReason !== undefined
            ? this.result(false, true)
            : this.score(value),
        (error: unknown) => {
          this.failure = taskError(error);
          return this.result(false);
        },
      );
    }
    return this.score(output);
  }

  /** A task that assigned hooks.metadata a new object meant it as the row's metadata (Braintrust keeps it). */
  private adoptMetadata(): void {
    const replaced: unknown = this.hooks.metadata;
    if (
      replaced !== this.metadata &&
      typeof replaced === "object" &&
      replaced !== null &&
      !Array.isArray(replaced)
    )
      this.metadata = replaced as Record<string, unknown>;
  }

  private score(output: unknown): RowResult | Promise<RowResult> {
    this.adoptMetadata();
    this.output = output;
    this.phase = "scoring";
    const args = new Args(this, output);
    const scorers = this.ctx.evaluator.scores as Scorer[];
    const values: unknown[] = new Array(scorers.length);
    let pending = false;
    const timed = this.ctx.timeout !== undefined;
    const began = timed ? performance.now() : 0;
    scope.current = this;
    for (let i = 0; i < scorers.length; i++) {
      const scorer = scorers[i] as Scorer;
      try {
        values[i] = settle(scorer.constructor === AsyncFunction ? this.later(scorer, args) : scorer(args));
        if (isThenable(values[i])) pending = true;
      } catch (error) {
        values[i] = new Thrown(error);
      }
    }
    scope.current = undefined;
    if (timed) this.scorersBlocked = performance.now() - began;
    if (!pending) {
      this.collect(values);
      return this.result(true);
    }
    return Promise.all(values).then((settled) => {
      this.collect(settled);
      return this.result(true);
    });
  }

  /** Runs an async scorer in the row's context, which a judge it calls after an await reads (row-scope.ts). */
  private later(scorer: Scorer, args: Args): unknown {
    scope.later ??= new AsyncLocalStorage();
    return scope.later.run(this, () => scorer(args));
  }

  private collect(values: unknown[]): void {
    for (let i = 0; i < values.length; i++) {
      const name = this.ctx.scorerNames[i] ?? `scorer_${i}`;
      const value = values[i];
      // The common cases, without the allocations of normalizeScore.
      if (typeof value === "number" && value >= 0 && value <= 1) {
        if (this.scores[name] !== undefined && Object.hasOwn(this.scores, name)) this.clash(name, i);
        else this.scores[name] = value;
        continue;
      }
      if (typeof value === "boolean") {
        if (this.scores[name] !== undefined && Object.hasOwn(this.scores, name)) this.clash(name, i);
        else this.scores[name] = value ? 1 : 0;
        continue;
      }
      if (value instanceof Thrown) {
        this.scoreErrors ??= {};
        this.scoreErrors[name] = scorerError(name, value.error);
        continue;
      }
      let normalized: ReturnType<typeof normalizeScore>;
      try {
        normalized = normalizeScore(value, name);
      } catch (error) {
        // A returned object whose `score` (or name) getter throws.
        this.scoreErrors ??= {};
        this.scoreErrors[name] = withoutSecrets(
          `Scorer "${name}" returned a value that could not be read: ${errorText(error)}`,
        );
        continue;
      }
      if (!normalized.ok) {
        this.scoreErrors ??= {};
        this.scoreErrors[name] = withoutSecrets(normalized.error);
        continue;
      }
      for (const s of normalized.scores) {
        if (this.scores[s.name] !== undefined && Object.hasOwn(this.scores, s.name)) {
          this.clash(s.name, i);
          continue;
        }
        this.scores[s.name] = s.score;
        if (s.metadata) {
          this.scoreMetadata ??= {};
          this.scoreMetadata[s.name] = s.metadata;
        }
      }
    }
  }

  /**
   * Two scores of one row under one name (two scorer functions named alike, or two .partial()s of one scorer): the
   * later would silently replace the earlier, so the earlier is kept and the clash is this score's error.
   */
  private clash(name: string, index: number): void {
    const scorer = this.ctx.scorerNames[index] ?? `scorer_${index}`;
    this.scoreErrors ??= {};
    this.scoreErrors[name] =
      `Scorer "${scorer}" (scores[${index}]) returned a score named "${name}", as an earlier scorer did, and one ` +
      "would hide the other; give each scorer its own name (a named function, or { name, score } with its own name).";
  }

  /**
   * Braintrust's `errorScoreHandler`: called for a row whose task failed (every scorer unhandled) or whose scorers
   * threw; its numbers become the row's scores for those scorers (`defaultErrorScoreHandler` gives 0 each, so
   * that an errored row counts as a failure in the means). The row stays an error.
   */
  private handleErrorScores(result: RowResult, scored: boolean): void {
    const handler = this.ctx.evaluator.errorScoreHandler;
    // Once a row: a timed-out row's late output makes a second result, which is dropped.
    if (handler === undefined || this.errorScoresHandled) return;
    this.errorScoresHandled = true;
    const unhandledScores = scored
      ? Object.keys(this.scoreErrors ?? {})
      : this.ctx.scorerNames.map((name, i) => name ?? `scorer_${i}`);
    if (unhandledScores.length === 0) return;
    let given: unknown;
    try {
      given = handler({ rootSpan: NOOP_SPAN, data: this.item.row, unhandledScores });
    } catch (error) {
      this.scoreErrors ??= {};
      this.scoreErrors.errorScoreHandler = thrownBy("errorScoreHandler", error);
      return;
    }
    if (typeof given !== "object" || given === null) return;
    const scores = scored ? result.scores : { ...result.scores };
    const refused: string[] = [];
    for (const [name, value] of Object.entries(given as Record<string, unknown>)) {
      if (Object.hasOwn(scores, name) && scores[name] !== undefined) continue;
      if (value === null || (typeof value === "number" && value >= 0 && value <= 1)) scores[name] = value;
      else refused.push(`${name} = ${describeValue(value)}`);
    }
    result.scores = scores;
    if (refused.length > 0) {
      this.scoreErrors ??= {};
      this.scoreErrors.errorScoreHandler = `errorScoreHandler returned ${refused.join(", ")}: a score is a number in [0, 1] or null`;
    }
  }

  /**
   * The row's result. `scored` is false when scoring did not complete (the task failed, or the row was cut off);
   * a cut-off row copies its metadata and tags, which a task left running could still change.
   */
  result(scored: boolean, cutOff = false): RowResult {
    if (this.onHardStop) this.ctx.hardStop.removeEventListener("abort", this.onHardStop);
    this.adoptMetadata();
    const row = this.item.row;
    const result: RowResult = {
      id: resultId(),
      input: row.input,
      // undefined (left out of JSON) when the task did not finish
      output: this.phase === "scoring" ? this.output : undefined,
      expected: row.expected,
      scores: scored ? this.scores : {},
      metadata: cutOff ? { ...this.metadata } : this.metadata,
      tags: textTags(cutOff ? [...this.tags] : this.tags),
      metrics: {
        start: this.start / 1000,
        end: Date.now() / 1000,
        duration: (performance.now() - this.t0) / 1000,
      },
      row_key: this.item.key,
      row_index: this.item.rowIndex,
      trial_index: this.item.trial,
    };
    if (row.id != null) result.row_id = String(row.id);
    const prior = this.item.prior;
    // A re-scored row's timing is its task's, and its tokens are what its task and its scorers used in both runs.
    if (prior !== undefined) result.metrics = { ...prior.metrics };
    if (this.controller !== undefined) {
      const usage = takeUsage(this.controller.signal);
      if (usage !== undefined) {
        if (prior === undefined) Object.assign(result.metrics, usage);
        else
          for (const name of ["prompt_tokens", "completion_tokens", "tokens"] as const)
            result.metrics[name] = (result.metrics[name] ?? 0) + usage[name];
      }
    }
    if (this.item.digest !== undefined) result[INPUT_DIGEST] = this.item.digest;
    if (this.failure) result.error = this.failure;
    if (this.ctx.evaluator.errorScoreHandler !== undefined && (this.failure || this.scoreErrors))
      this.handleErrorScores(result, scored);
    if (scored && this.scoreErrors) {
      result.score_errors = this.scoreErrors;
      if (!this.failure && !isPlainJson(this.output)) result.output_lossy = true;
    } else if (this.scoreErrors?.errorScoreHandler !== undefined)
      result.score_errors = { errorScoreHandler: this.scoreErrors.errorScoreHandler };
    if (scored && this.scoreMetadata) result.score_metadata = this.scoreMetadata;
    return result;
  }
}

/**
 * Whether JSON keeps `value` as it is: no Date, Map, class instance (arrays' subclasses too), undefined field,
 * NaN, -0, BigInt, cycle, or property JSON leaves out (non-enumerable, symbol-keyed, named on an array).
 */
export function isPlainJson(value: unknown): boolean {
  try {
    return plainJson(value, 0);
  } catch {
    // A getter that throws: JSON cannot keep it either (storableJson marks it).
    return false;
  }
}

function plainJson(value: unknown, depth: number): boolean {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value) && !Object.is(value, -0);
  if (typeof value !== "object" || depth > 100) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  const names = Object.getOwnPropertyNames(value);
  if (Object.getOwnPropertySymbols(value).length > 0) return false;
  if (Array.isArray(value)) {
    // An array's own names are its indexes and `length`: any other is a property JSON drops.
    if (proto !== Array.prototype || names.length !== value.length + 1) return false;
    for (let i = 0; i < value.length; i++) if (!plainJson(value[i], depth + 1)) return false;
    return true;
  }
  if (proto !== Object.prototype && proto !== null) return false;
  const fields = Object.values(value);
  if (fields.length !== names.length) return false;
  for (const field of fields) if (!plainJson(field, depth + 1)) return false;
  return true;
}

/**
 * Tags as the API has them, strings: a task's `hooks.tags.push(5)` is kept as "5" (an object as its JSON, null and
 * undefined left out), so that every stored row is an InsertEvent and its export imports again. The same array when
 * it holds strings only (every row, nearly always).
 */
export function textTags(tags: unknown[]): string[] {
  for (let i = 0; i < tags.length; i++) {
    if (typeof tags[i] !== "string") {
      const text: string[] = [];
      for (const t of tags) {
        if (t == null) continue;
        text.push(typeof t === "object" ? (storableJson(t) ?? String(t)) : String(t));
      }
      return text;
    }
  }
  return tags as string[];
}

export const NEVER_SETTLED =
  "The row never finished: its task or a scorer returned a promise that was still pending when nothing was left for it to wait on (no timer, no I/O), so it never could settle. Look for a promise whose resolve is never called; a `timeout` in Eval() bounds every row.";

function unreadableRow(item: WorkItem, error: unknown): RowResult {
  return badRow(
    item.row,
    item.key,
    item.rowIndex,
    item.trial,
    `Row ${item.rowIndex} could not be read: reading its fields (metadata, tags, expected) threw ${errorText(error)}. Give rows plain values.`,
  );
}

/** The result of a row that cannot run (malformed, or unreadable): a data error, with its input when it has one. */
export function badRow(
  raw: unknown,
  key: string,
  rowIndex: number,
  trialIndex: number,
  message: string,
): RowResult {
  const now = Date.now() / 1000;
  let input: unknown;
  try {
    input =
      typeof raw === "object" && raw !== null && "input" in raw ? (raw as { input: unknown }).input : raw;
  } catch {
    input = undefined;
  }
  return {
    id: resultId(),
    input,
    scores: {},
    metadata: {},
    tags: [],
    metrics: { start: now, end: now, duration: 0 },
    error: { kind: "data", message },
    row_key: key,
    row_index: rowIndex,
    trial_index: trialIndex,
  };
}

/** The result of an item that never produced one: its worker was stopped or crashed while running it. */
export function failedResult(item: WorkItem, failure: RowError, startedAt: number): RowResult {
  const row = item.row;
  const result: RowResult = {
    id: resultId(),
    input: row.input,
    expected: row.expected,
    scores: {},
    metadata: row.metadata ? { ...row.metadata } : {},
    tags: row.tags ? [...row.tags] : [],
    metrics: { start: startedAt / 1000, end: Date.now() / 1000, duration: (Date.now() - startedAt) / 1000 },
    row_key: item.key,
    row_index: item.rowIndex,
    trial_index: item.trial,
    error: failure,
  };
  if (row.id != null) result.row_id = String(row.id);
  return result;
}

/** Races a row against its timeout and the run's hard stop. */
async function raced(run: RowRun): Promise<RowResult | undefined> {
  const { timeout, hardStop } = run.ctx;
  // Past the run's hard stop no row starts (a queued item let through late would run only to be dropped).
  if (hardStop.aborted) return undefined;
  let timer: NodeJS.Timeout | undefined;
  let onStop: (() => void) | undefined;
  const cut = new Promise<"timeout" | "stopped">((resolve) => {
    if (timeout !== undefined) timer = setTimeout(() => resolve("timeout"), timeout);
    onStop = () => resolve("stopped");
    if (hardStop.aborted) onStop();
    else hardStop.addEventListener("abort", onStop, { once: true });
  });
  // A task that throws after the cut is already recorded as cut off; its rejection must not surface as unhandled.
  const work = Promise.resolve(run.execute());
  const outcome = await Promise.race([work, cut]);
  clearTimeout(timer);
  if (onStop) hardStop.removeEventListener("abort", onStop);
  if (outcome === "stopped") {
    run.abort(new Error("evalrun: the run was interrupted"));
    return undefined;
  }
  if (outcome === "timeout") {
    const result = timedOut(run, timeout as number, "");
    // Recorded now; its slot is held while its task runs on, one more timeout at most (see slot-hold.ts).
    holdSlot(result, settledWithin(work, timeout as number, hardStop), work);
    return result;
  }
  // A task or scorer that blocked its thread past the timeout finished before the timer could fire: over its
  // limit all the same, as a thread would have been stopped for it, so the row is the same in every mode.
  // Only the row's own synchronous time counts: time its thread spent on other rows' blocking work is not its own.
  const blocked = run.taskBlocked + run.scorersBlocked;
  if (timeout !== undefined && blocked > timeout) {
    // A task that itself overran has no output to keep, as in a stopped thread.
    if (run.taskBlocked > timeout) run.phase = "task";
    return timedOut(
      run,
      timeout,
      ` (its synchronous code ran for ${Math.round(blocked)} ms, blocking its thread, so nothing could stop it sooner)`,
    );
  }
  return outcome;
}

function timedOut(run: RowRun, timeout: number, detail: string): RowResult {
  const reason = new Error(`Row timed out after ${timeout} ms`);
  reason.name = "TimeoutError";
  run.abort(reason);
  run.failure = {
    kind: "timeout",
    message: `Timed out after ${timeout} ms${run.phase === "scoring" ? " while scoring" : ""}${detail}; the row's signal was aborted.`,
  };
  return run.result(false, true);
}

/**
 * Runs one (row, trial): the task, then every scorer at once. Errors become data on the result. With a timeout,
 * the row's signal aborts and the result records a timeout even if the task ignores the signal (in-process its
 * promise is left behind; a worker can be stopped instead). Synchronous tasks and scorers return a result directly,
 * without a promise.
 */
export function runItem(ctx: ItemContext, item: WorkItem): ItemOutcome {
  let run: RowRun;
  try {
    run = new RowRun(ctx, item);
  } catch (error) {
    // Copying the row's metadata or tags ran a getter that threw (a lazy object in the data).
    return unreadableRow(item, error);
  }
  if (ctx.timeout !== undefined || ctx.hardStop.aborted) return raced(run);
  return run.execute();
}
