import type { GateConfig } from "../define/config.js";
import type { GateOptions } from "../gate/types.js";
import type { Reporter } from "../report/reporter.js";
import type { Selection } from "./selection.js";

/** Options of `runEvals()`; each mirrors a CLI flag and overrides the config file's value. */
export interface RunEvalsOptions {
  /** Files, directories or globs; default the config's `paths`, else the current directory. */
  paths?: string[];
  /** Directory paths are relative to (default process.cwd()). */
  cwd?: string;
  /** A config file to use, or false to ignore any; by default the nearest evalrun.config.* is used. */
  config?: string | false;
  filter?: string[];
  trials?: number;
  timeout?: number;
  /** Rows in flight across all evals. */
  maxConcurrency?: number;
  /** Worker threads that run rows (0: in this thread; "auto", the default: evals with a timeout, one per core). */
  workers?: number | "auto";
  passWithNoEvals?: boolean;
  maxErrorRate?: number;
  /** A dotenv file; `.env` in `cwd` loads when present unless this is false. */
  envFile?: string | false;
  reporters?: Reporter[];
  /** The store file, or false for none (an in-memory store); default EVALRUN_STORE, the config, then .evalrun/. */
  store?: string | false;
  /** Continue each eval's last interrupted experiment, running only the (row, trial) pairs it lacks. */
  resume?: boolean;
  /** Re-run only the rows that errored in each eval's last experiment (into a new experiment). */
  retryErrors?: boolean;
  /** Compare with this experiment (name or id) or export file instead of the newest complete experiment. */
  baseline?: string;
  /**
   * Thresholds and the regression gate (README: CI), under the config's gate keys: failOnRegression, maxDrop,
   * confidence, requireBaseline, and minScore / rowThreshold as the flags' strings ("Factuality=0.8"). Added to the
   * config's gate, as flags are. By default only an eval's own `thresholds` apply.
   */
  gate?: Partial<GateOptions> & Pick<GateConfig, "minScore" | "rowThreshold">;
  /** Which rows run: --first, --sample, --shard. */
  selection?: Selection;
  /** Write each eval's experiment to `<dir>/<eval>.jsonl` when the run ends (e.g. for `evalrun merge`). */
  exportDir?: string;
  /** Where committed baselines live (default `__baselines__/` beside each eval file). */
  baselineDir?: string;
  /** Aborting it interrupts the run: no new rows start, in-flight rows get `graceMs` to finish. */
  signal?: AbortSignal;
  /** Default 2000; 0 cuts rows in flight at once (their signals abort, their results are dropped). */
  graceMs?: number;
}
