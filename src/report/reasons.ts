import type { RowResult } from "../engine/types.js";

/** A score's reason from its metadata: a judge's `rationale` (with its `choice`), or a `reason`/`explanation`. */
export function reasonsOf(row: Pick<RowResult, "score_metadata">): Record<string, string> {
  const found: Record<string, string> = {};
  for (const [name, meta] of Object.entries(row.score_metadata ?? {})) {
    const text = [meta.rationale, meta.reason, meta.explanation].find((v) => typeof v === "string");
    if (typeof text !== "string" || text.trim() === "") continue;
    const choice = typeof meta.choice === "string" ? ` (${meta.choice})` : "";
    found[name] = `${choice.trim()} ${text.trim()}`.trim();
  }
  return found;
}
