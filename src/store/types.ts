import type { ExperimentSummary } from "../summary/types.js";

export type ExperimentStatus = "running" | "complete" | "interrupted";

export interface GitInfo {
  commit: string | null;
  branch: string | null;
  dirty: boolean | null;
}

/** An experiment as stored: one run of one eval. */
export interface Experiment {
  /** Internal key of the experiment's rows. */
  seq: number;
  id: string;
  /** The eval's name. */
  project: string;
  name: string;
  /** ISO timestamps. */
  created: string;
  finished: string | null;
  status: ExperimentStatus;
  /** "run" for evalrun runs, "import" for experiments read from an export file. */
  source: string;
  git: GitInfo;
  evalrunVersion: string;
  file: string | null;
  description: string | null;
  metadata: Record<string, unknown>;
  tags: string[];
  trialCount: number;
  summary: ExperimentSummary | null;
  baseExperimentId: string | null;
  /** The flags that selected this run's rows (`--first 30`), or null when it ran every row. */
  selection: string | null;
  /** A digest of the compiled eval code the run ran (see loader/code-digest.ts), or null when not known. */
  code: string | null;
  /** Why the run stopped, when an error stopped it (`[BAD_DATA] ...`); its status is then "interrupted". */
  failure: string | null;
}
