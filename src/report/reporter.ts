import type { EvalrunError, EvalrunErrorCode } from "../define/errors.js";
import type { EvalInfo, RowResult } from "../engine/types.js";
import type { EvalGate, EvalStats } from "../gate/types.js";
import type { Problem } from "../loader/problems.js";
import type { BaselineComparison } from "../summary/comparison.js";
import type { ExperimentSummary } from "../summary/types.js";

type Awaitable<T> = T | Promise<T>;

/** Why an eval stopped before its data ran out (its other rows are still summarised). */
export interface EvalFailure {
  code: EvalrunErrorCode;
  message: string;
  hint: string | undefined;
}

export interface EvalOutcome {
  info: EvalInfo;
  summary: ExperimentSummary;
  /** Rows read from the data after filtering (results = rows × trials when nothing was interrupted). */
  rowsRead: number;
  /** Rows the data gave before any filter, when known. */
  rowsGiven?: number | undefined;
  taskErrors: number;
  timeouts: number;
  dataErrors: number;
  scorerErrorRows: number;
  interrupted: boolean;
  failure: EvalFailure | undefined;
  /** How this run compares with its baseline, when it has one. */
  comparison: BaselineComparison | undefined;
  /** Each score's interval and change against the baseline (see gate/stats). */
  stats?: EvalStats | undefined;
  /** Thresholds and the regression gate, as they came out for this eval. */
  gate?: EvalGate | undefined;
  /** Its rows errored, but within --max-error-rate: the eval does not fail for them. */
  errorsTolerated?: boolean | undefined;
}

export interface RunResult {
  evals: EvalOutcome[];
  problems: Problem[];
  interrupted: boolean;
  /** 0 all good, 1 a problem or errored rows, 130 interrupted (143 by SIGTERM, 129 by SIGHUP, under the CLI). */
  exitCode: number;
  /** Why the exit code is what it is, one line each (empty for a plain pass). */
  reasons: string[];
  /** Things worth saying that do not change the exit code (evals skipped by --resume, ...). */
  notes: string[];
  /** The notes of those that the worker threads gave (an eval moved to the main thread, a thread that stopped). */
  threadNotes?: string[] | undefined;
  /** Where the experiments were written (":memory:" with --no-store). */
  store: string;
  durationSeconds: number;
  /** Gates that are misconfigured (a rule naming a score no scorer produced): the exit code is 2. */
  gateErrors?: EvalrunError[] | undefined;
  /** Errors that escaped eval code (a throw in a timer, a rejection nobody awaited): they failed the run. */
  escapedErrors?: number | undefined;
}

/** Every hook is optional and may be async; the runner awaits each in turn. */
export interface Reporter {
  onRunStart?(evals: EvalInfo[], problems: Problem[]): Awaitable<void>;
  onEvalStart?(ev: EvalInfo): Awaitable<void>;
  /** How many rows the eval will read, when its data says up front (an array). */
  onEvalSize?(ev: EvalInfo, rows: number): void;
  /** Called for every result; must not block (buffer instead). */
  onRow?(ev: EvalInfo, row: RowResult): void;
  onEvalEnd?(ev: EvalInfo, summary: ExperimentSummary, outcome: EvalOutcome): Awaitable<void>;
  onRunEnd?(result: RunResult): Awaitable<void>;
}
