import type { EvalOutcome } from "../report/reporter.js";
import type { ExperimentSummary } from "../summary/types.js";

/** An errored row as the watch screen shows it. */
export interface ErrorSample {
  row: number;
  /** The row's id, when the data gives one. */
  id?: string | undefined;
  trial: number;
  kind: string;
  message: string;
  /** `file:line:col` of the user's frame, when known. */
  where: string | undefined;
}

/** One finished (not interrupted) run of an eval in this session. */
export interface RunRecord {
  summary: ExperimentSummary;
  outcome: EvalOutcome;
  errors: ErrorSample[];
  /** Rows that errored, of which `errors` shows the first few. */
  errorRows: number;
  /** (row, trial) results at their places (see resultKey) that errored or scored below 1, with their counts: what `f` re-runs. */
  failing: Map<string, number>;
  experimentId: string | undefined;
  /** Set for a run of `f`: how many results ran again (the others were kept from the run before). */
  rerunOf: number | undefined;
}

/** The stored experiment this session's first run of an eval compared with: the session's fixed reference. */
export interface PinnedBaseline {
  name: string;
  means: Record<string, number | null>;
}

/** What the session knows of one eval; kept by name across reloads, renames and config restarts. */
export interface EvalState {
  name: string;
  file: string;
  /** False once its file is gone or no longer defines it. */
  active: boolean;
  running: { rows: number; total: number | undefined } | undefined;
  last: RunRecord | undefined;
  /** The finished run before `last`, for "vs previous". */
  previous: RunRecord | undefined;
  /** undefined until its first run here; null when that run had no baseline. */
  base: PinnedBaseline | null | undefined;
  /** Why its last run could not start (e.g. the store refused it). */
  failure: string | undefined;
}
