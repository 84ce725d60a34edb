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
  /** Row keys in both runs, scored or not. */
  matchedRows: number;
  /** Row keys only in this run / only in the baseline: reported, not compared. */
  onlyNew: number;
  onlyBase: number;
}

/**
 * A baseline experiment's side of the comparison: its name and the means from its stored summary, with how rows
 * moved (`moved`, from the store).
 */
export function baselineComparison(
  base: { name: string; summary?: { scores: Record<string, { score: number | null }> } | null },
  moved: { scores: Record<string, ScoreMovement>; matchedRows: number; onlyNew: number; onlyBase: number },
): BaselineComparison {
  const means: Record<string, number | null> = {};
  for (const [name, s] of Object.entries(base.summary?.scores ?? {})) means[name] = s.score;
  return {
    experimentName: base.name,
    means,
    movements: moved.scores,
    matchedRows: moved.matchedRows,
    onlyNew: moved.onlyNew,
    onlyBase: moved.onlyBase,
  };
}
