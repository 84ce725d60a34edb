import type Database from "better-sqlite3";
import { storedRows } from "../../store/rows.js";
import type { Experiment } from "../../store/types.js";
import { EvalAggregate } from "../../summary/aggregate.js";
import { summarize } from "../../summary/summarize.js";
import type { ExperimentSummary } from "../../summary/types.js";

/**
 * An experiment's summary: the one stored when it finished, else worked out from its rows (a run killed or
 * crashed, or still running, stored none); undefined when it has no rows either.
 */
export function summaryOf(db: Database.Database, e: Experiment): ExperimentSummary | undefined {
  if (e.summary) return e.summary;
  const aggregate = new EvalAggregate();
  let any = false;
  for (const row of storedRows(db, e.seq)) {
    aggregate.add(row);
    any = true;
  }
  if (!any) return undefined;
  aggregate.finish();
  return summarize(aggregate, { projectName: e.project, experimentName: e.name });
}
