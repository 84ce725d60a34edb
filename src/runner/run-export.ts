import path from "node:path";
import { baselineFileName } from "../store/baseline-file.js";
import { writeRunExport } from "../store/run-export.js";
import type { Shard } from "./selection.js";
import type { PlannedEval, StoreSession } from "./store-session.js";

/**
 * `--export DIR`: each eval's experiment as `DIR/<eval>.jsonl`, with what merge needs: the shard, the rows the
 * run selected besides it, and the eval's thresholds.
 */
export async function exportRun(
  session: StoreSession,
  planned: readonly PlannedEval[],
  dir: string,
  run: { shard: Shard | undefined; selection: string | undefined },
): Promise<void> {
  for (const p of planned) {
    const experiment = session.experiments.bySeq(p.experiment.seq);
    await writeRunExport(session.store.db, experiment, path.resolve(dir, baselineFileName(p.info.name)), {
      ...run,
      thresholds: p.definition.evaluator.thresholds,
    });
  }
}
