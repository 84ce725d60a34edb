/** A metric as the API's summary carries it. */
export interface Metric {
  name: string;
  metric: number;
  unit: string;
}

export interface ScoreSummary {
  name: string;
  /** Mean over the rows that were scored (null scores left out); null when no row was scored. */
  score: number | null;
  /** Change of the mean against the baseline; null without one. */
  diff: number | null;
  improvements: number;
  regressions: number;
  /** evalrun's addition: how many row results carried a score (not null, not errored). */
  scored: number;
  /** evalrun's addition: how many times this scorer errored. */
  errors: number;
}

/**
 * The API's SummarizeExperimentResponse. Terminal, JSON and (later) JUnit, GitHub and server summaries all
 * render this one object.
 */
export interface ExperimentSummary {
  project_name: string;
  experiment_name: string;
  comparison_experiment_name: string | null;
  scores: Record<string, ScoreSummary>;
  metrics: {
    /** Row × trial results. */
    rows: Metric;
    /** Results with a task, timeout, data or scorer error. */
    errors: Metric;
    /** Wall time of the eval. */
    duration: Metric;
    duration_p50: Metric;
    duration_p95: Metric;
    [name: string]: Metric;
  };
}
