import path from "node:path";
import { baselineFileName } from "../store/baseline-file.js";
import { writeRunExport } from "../store/run-export.js";
import type { Shard } from "./selection.js";
import type { PlannedEval, StoreSession } from "./store-session.js";

/** `--export DIR`: each eval's experiment as `DIR/<eval>.jsonl`, with the shard and thresholds merge needs. */
export async function exportRun(
  session: StoreSession,
  planned: readonly PlannedEval[],
  dir: string,
  shard: Shard | undefined,
): Promise<void> {
  for (const p of planned) {
    const experiment = session.experiments.bySeq(p.experiment.seq);
    await writeRunExport(session.store.db, experiment, path.resolve(dir, baselineFileName(p.info.name)), {
      shard,
      thresholds: p.definition.evaluator.thresholds,
    });
  }
}
