/** How one score moved on rows present in both experiments. */
export interface ScoreMovement {
  matched: number;
  improvements: number;
  regressions: number;
}

/** What summarize() needs of a baseline: its name, its means, and how matched rows moved. */
export interface BaselineComparison {
  experimentName: string;
  /** The baseline's mean per score (null where it had none). */
  means: Record<string, number | null>;
  movements: Record<string, ScoreMovement>;
  /** Row keys only in this run / only in the baseline: reported, not compared. */
  onlyNew: number;
  onlyBase: number;
}
