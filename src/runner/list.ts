import { EvalrunError, isEvalrunError } from "../define/errors.js";
import { countRows } from "../engine/count.js";
import type { Problem } from "../loader/problems.js";
import { checkRunOptions } from "./check-options.js";
import type { RunEvalsOptions } from "./options.js";
import { prepareRun } from "./prepare.js";

export interface ListedEval {
  name: string;
  file: string | undefined;
  /** Rows after filters (each runs trialCount times); null when the data could not be read. */
  rows: number | null;
  trialCount: number;
  /** Results a run would make: rows × trialCount, unless rows give their own trialCount. */
  results: number | null;
  error?: string;
}

/** The evals a run would run and how many rows each has, without running anything. */
export async function listEvals(
  options: RunEvalsOptions = {},
): Promise<{ evals: ListedEval[]; problems: Problem[] }> {
  // Checked as runEvals() checks them: a trials of "abc" was listed back as the evals' trial count.
  await checkRunOptions(options).catch((error: unknown) => {
    if (!isEvalrunError(error)) throw error;
    throw new EvalrunError(error.code, error.message.replaceAll("runEvals()", "listEvals()"), error.hint);
  });
  const prepared = await prepareRun(options);
  const evals: ListedEval[] = [];
  for (const [i, definition] of prepared.definitions.entries()) {
    const info = prepared.infos[i];
    const entry: ListedEval = {
      name: definition.name,
      file: definition.file,
      rows: null,
      trialCount: info?.trialCount ?? 1,
      results: null,
    };
    try {
      const counted = await countRows(definition, prepared.filters, {
        count: entry.trialCount,
        fixed: info?.trialsFixed === true,
      });
      entry.rows = counted.rows;
      entry.results = counted.results;
    } catch (error) {
      if (!isEvalrunError(error)) throw error;
      entry.error = error.message;
    }
    evals.push(entry);
  }
  return { evals, problems: prepared.problems };
}
