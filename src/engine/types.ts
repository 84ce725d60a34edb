/** How a row failed: its task threw, it ran past its timeout, or the row itself was malformed. */
export interface RowError {
  kind: "task" | "timeout" | "data";
  message: string;
  /** Source-mapped stack of a task error. */
  stack?: string | undefined;
}

/** A symbol key: JSON and structured cloning leave it out, so it never reaches the store's JSON or a thread. */
export const INPUT_DIGEST = Symbol("evalrun.inputDigest");
/** What the store reads back of `output_lossy` (a symbol: JSON and exports leave it out). */
export const OUTPUT_LOSSY = Symbol("evalrun.outputLossy");

/**
 * One (row, trial) result, shaped as the API's InsertEvent (snake_case fields, metrics in epoch seconds) so the
 * store and upload copy it rather than translate it. The extra fields are evalrun's own bookkeeping.
 */
export interface RowResult {
  id: string;
  input: unknown;
  output?: unknown;
  expected?: unknown;
  scores: Record<string, number | null>;
  metadata: Record<string, unknown>;
  tags: string[];
  /** Timing, plus token counts when LLM calls made for the row reported them (see define/usage.ts). */
  metrics: {
    start: number;
    end: number;
    duration: number;
    prompt_tokens?: number;
    completion_tokens?: number;
    tokens?: number;
  };
  error?: RowError;
  /** The row's identity across runs (see rowKey()): how results match a baseline and --resume finds gaps. */
  row_key: string;
  /** Position of the row in the data (0-based, before filtering) and which trial of it this is. */
  row_index: number;
  trial_index: number;
  /** The row's own `id`, when its data gives one. */
  row_id?: string;
  /** Scorers that failed, by the name their score would have had, with the reason. */
  score_errors?: Record<string, string>;
  /** Metadata scorers attached to their scores (e.g. an LLM judge's rationale), by score name. */
  score_metadata?: Record<string, Record<string, unknown>>;
  /** SHA-1 of the input's JSON when already computed (string inputs), for the store. */
  [INPUT_DIGEST]?: string;
  /**
   * Set on a result whose scorer failed when its output is not plain JSON (a Date, a Map, a class instance, NaN):
   * stored as JSON it is not what the task returned, so --retry-errors runs its task again instead of scoring the
   * stored copy. A field, not a symbol, so that it crosses from worker threads; the store keeps it out of exports.
   */
  output_lossy?: true;
  [OUTPUT_LOSSY]?: true;
}

/** What reporters and sinks know about an eval before it runs. */
export interface EvalInfo {
  name: string;
  /** Absolute path of the eval file, when known. */
  file: string | undefined;
  /** The experiment this run writes (named by the store before the run starts). */
  experimentName: string;
  experimentId: string | undefined;
  /** The experiment compared against, when there is one. */
  baselineName: string | undefined;
  description: string | undefined;
  metadata: Record<string, unknown>;
  tags: string[];
  trialCount: number;
  /** --trials was given: it beats a row's own `trialCount` too. */
  trialsFixed?: boolean | undefined;
  maxConcurrency: number;
  timeout: number | undefined;
  /** Score names in the order the scorers were given (names scorers return are added as they appear). */
  scorerNames: string[];
}

/** Where results go besides the reporters (the store, later an upload): buffers, never blocks the engine long. */
export interface ResultSink {
  write(row: RowResult): void;
  /** Writes what is buffered; throws if the rows could not be kept. */
  close(): void;
}
