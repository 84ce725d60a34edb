/** Project defaults in `evalrun.config.{ts,mts,mjs,js}`; every key has a flag of the same meaning that overrides it. */
export interface EvalrunConfig {
  /** Files, directories or globs to run, relative to the config file (like `evalrun [paths...]`). */
  paths?: string[];
  /** Extra globs to leave out of discovery (node_modules, dist, build, .git and .evalrun always are). */
  exclude?: string[];
  /** Rows in flight across all evals (`--max-concurrency`). */
  maxConcurrency?: number;
  /** Worker threads that run rows; 0 runs them in the main thread; "auto" (default): evals with a timeout (`--workers`). */
  workers?: number | "auto";
  /** Trials per row for evals that set no `trialCount` of their own (`--trials` overrides every eval's). */
  trials?: number;
  /** Per-row time limit in ms for evals that set no `timeout` of their own (`--timeout` overrides every eval's). */
  timeout?: number;
  /** Row filters `path=regex`, all of which must match (`--filter`). */
  filter?: string[];
  /** Progress bars on a terminal (`--no-progress` turns them off). */
  progress?: boolean;
  /** A dotenv file to load before the eval files (`--env-file`); `.env` is loaded when present. */
  envFile?: string;
  /** Exit 0 when no eval file is found (`--pass-with-no-evals`). */
  passWithNoEvals?: boolean;
  /** Fraction of errored rows per eval tolerated before the exit code is 1 (`--max-error-rate`). */
  maxErrorRate?: number;
  /** The store file, relative to the config file, or false for none (`--store`, `--no-store`). */
  store?: string | false;
  /** Where committed baselines live, relative to the config file (`--baseline-dir`); default `__baselines__/` beside each eval file. */
  baselineDir?: string;
  /** The team's gate policy; each key's flag of the same name overrides it, and `--min-score` flags come after. */
  gate?: GateConfig;
}

/** Gate settings in the config (the flags `--fail-on-regression`, `--max-drop`... of the same names). */
export interface GateConfig {
  /** Run the regression gate on every run, not only with `--ci` (`--fail-on-regression`). */
  failOnRegression?: boolean;
  /** A drop tolerated even beyond noise, a fraction (`--max-drop`). */
  maxDrop?: number;
  /** Confidence of the intervals and the test, strictly between 0 and 1 (`--confidence`). */
  confidence?: number;
  /** Fail an eval with no baseline (`--require-baseline`). */
  requireBaseline?: boolean;
  /** `--min-score` specs: `"Factuality=0.8"`, `"my-eval:Tone=70%"`, `"0.5"`. */
  minScore?: string[];
  /** `--row-threshold` specs. */
  rowThreshold?: string[];
}

// Every key of GateConfig; the type makes this list complete.
const GATE_CONFIG: Record<keyof GateConfig, true> = {
  failOnRegression: true,
  maxDrop: true,
  confidence: true,
  requireBaseline: true,
  minScore: true,
  rowThreshold: true,
};

/** The config's gate keys, for suggestions when one is misspelt. */
export const GATE_CONFIG_KEYS = Object.keys(GATE_CONFIG);

export function defineConfig(config: EvalrunConfig): EvalrunConfig {
  return config;
}
