import { bracket, confidenceLabel, scorePair, signedPercent } from "../gate/format.js";
import type { EvalGate, GateCheck, ScoreStats, WorstRow } from "../gate/types.js";
import type { Colors } from "./colors.js";
import { oneLine, short } from "./safe-text.js";
import { preview, previewPair } from "./values.js";

/** True when a gate of the eval failed or is misconfigured. */
export const gateFailed = (gate: EvalGate | undefined): boolean =>
  gate?.checks.some((c) => c.status !== "pass") ?? false;

/**
 * What the terminal adds to a score's line: its interval and, with a baseline, the change's interval. The change is
 * the mean paired difference over matched rows; where it reads differently from the line's `diff` (the two means'
 * difference: rows on one side only, a subset run, unequal trials), its own value and row count are shown too, so
 * the line never pairs one number with another's interval.
 */
export function scoreIntervals(
  stats: ScoreStats | undefined,
  confidence: number,
  c: Colors,
  diff?: number | null,
): string {
  if (!stats?.interval) return "";
  let text = `  ${c.dim(`${confidenceLabel(confidence)} CI`)} ${bracket(stats.interval)}`;
  const est = stats.change?.estimate;
  if (est) {
    const own =
      typeof diff === "number" && signedPercent(diff) !== signedPercent(est.mean)
        ? `${signedPercent(est.mean)} `
        : "";
    const rows = own ? ` ${c.dim(`over ${est.n} matched ${est.n === 1 ? "row" : "rows"}`)}` : "";
    const shown = `${own}${bracket(est, true)}`;
    text += `  ${c.dim("change")} ${est.high < -1e-9 ? c.red(shown) : est.low > 1e-9 ? c.green(shown) : shown}${rows}`;
  }
  return text;
}

const label: Record<GateCheck["kind"], string> = {
  threshold: "threshold ",
  regression: "regression",
  baseline: "baseline  ",
};

/** A worst row on one line: key, before → after, input and the two outputs. */
export function worstRowLine(r: WorstRow, width = 40): string {
  const [outBefore, outAfter] = previewPair(r.outputBefore, r.outputAfter, width);
  const after = r.errorAfter ? `error: ${short(r.errorAfter, width)}` : outAfter;
  const [before, afterScore] = scorePair(r.before, r.after);
  return oneLine(
    `${r.rowKey}  ${before} → ${afterScore}  input ${preview(r.input, width)}  output ${outBefore} → ${after}`,
  );
}

/** The eval's gates, PASS / FAIL each, with the worst rows of a failed regression and the gate's notes. */
export function gateLines(gate: EvalGate | undefined, c: Colors): string[] {
  if (!gate || (gate.checks.length === 0 && gate.notes.length === 0)) return [];
  const lines = [`  ${c.dim("gates")}`];
  for (const check of gate.checks) {
    const status =
      check.status === "pass"
        ? c.green("✔ PASS ")
        : check.status === "fail"
          ? c.red("✘ FAIL ")
          : c.red("✘ ERROR");
    lines.push(`    ${status} ${c.dim(label[check.kind])}  ${oneLine(check.message)}`);
    if (check.hint) lines.push(`             ${c.dim("hint:")} ${oneLine(check.hint)}`);
    if (check.worstRows && check.worstRows.length > 0) {
      lines.push(`             ${c.dim("worst rows:")}`);
      for (const r of check.worstRows) lines.push(`               ${worstRowLine(r)}`);
    }
  }
  for (const note of gate.notes) lines.push(`    ${c.dim(`· ${oneLine(note)}`)}`);
  return lines;
}
