import { bracket, confidenceLabel, percent, scorePair, signedPercent } from "../gate/format.js";
import type { GateCheck } from "../gate/types.js";
import { type Destination, emit } from "./destination.js";
import { shownPath } from "./format.js";
import type { Reporter, RunResult } from "./reporter.js";
import { printable, short } from "./safe-text.js";
import { preview, previewPair } from "./values.js";

/**
 * Text from evals (names, messages, inputs, outputs) as markdown that shows as written, on one line (a table cell
 * cannot hold more): control characters escaped; `<`, `>` and `&` as entities, or GitHub renders or strips what
 * looks like HTML (a prompt's `<context>`); markdown's inline punctuation backslash-escaped, so a `*` or a
 * `[text](url)` stays text and a `|` does not end the cell; a leading block marker escaped too.
 */
const cell = (text: string) =>
  printable(text)
    .replace(/\n/g, " ")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/[\\`*_[\]|~#]/g, "\\$&")
    .replace(
      /^(\s*)([-+=]|\d+[.)])/,
      (_, space: string, marker: string) => `${space}${marker.slice(0, -1)}\\${marker.slice(-1)}`,
    );

/**
 * A code span: shown as is (no entities there), control characters escaped; `inTable` escapes its pipes. Its
 * fence is one backtick longer than any run of them inside, so a key holding backticks is shown as it is.
 */
const code = (text: string, inTable = false) => {
  const inner = printable(text).replace(/\n/g, " ");
  const longest = Math.max(0, ...(inner.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  const pad = inner.startsWith("`") || inner.endsWith("`") ? " " : "";
  return `${fence}${pad}${inTable ? inner.replace(/\|/g, "\\|") : inner}${pad}${fence}`;
};

const icon = (check: GateCheck) => (check.status === "pass" ? "✅" : "❌");

/**
 * The run as markdown, for a PR comment or GitHub's job summary: the verdict, a table of every score (mean,
 * interval, change with its interval, rows up and down, gates), then each failed gate with its worst rows.
 */
export function renderMarkdown(result: RunResult, cwd: string): string {
  const failedChecks = result.evals.flatMap((e) =>
    (e.gate?.checks ?? []).filter((c) => c.status !== "pass").map((c) => ({ e, c })),
  );
  const passed = result.exitCode === 0;
  const lines: string[] = [];
  const what =
    failedChecks.length > 0
      ? `, ${failedChecks.length} gate${failedChecks.length === 1 ? "" : "s"} failed`
      : "";
  lines.push(`### ${passed ? "✅" : "❌"} evalrun: ${passed ? "passed" : "failed"}${what}`, "");
  const confidence = result.evals.find((e) => e.stats)?.stats?.confidence ?? 0.95;
  const ci = `${confidenceLabel(confidence)} CI`;
  if (result.evals.length > 0) {
    lines.push(`| Eval | Score | Mean (${ci}) | Change vs baseline (${ci}) | Rows ↑ / ↓ | Gates |`);
    lines.push("|---|---|---|---|---|---|");
    for (const e of result.evals) {
      const scores = Object.values(e.summary.scores);
      if (scores.length === 0) lines.push(`| ${cell(e.info.name)} | – | – | – | – | |`);
      for (const s of scores) {
        const stats = e.stats?.scores[s.name];
        const mean = `${percent(s.score)}${stats?.interval ? ` ${bracket(stats.interval)}` : ""}`;
        const est = stats?.change?.estimate;
        // The matched rows' change, and the means' where it differs (rows on one side only): "+0.0%" alone hid
        // a 100% -> 48.5% drop of a score newly scored on rows.
        const apart = est && s.diff !== null && signedPercent(s.diff) !== signedPercent(est.mean);
        const change = est
          ? `${signedPercent(est.mean)} ${bracket(est, true)}${apart ? ` over ${est.n} matched (mean ${signedPercent(s.diff as number)})` : ""}`
          : s.diff !== null
            ? signedPercent(s.diff)
            : "–";
        const moved = stats?.change ? `${s.improvements} / ${s.regressions}` : "–";
        const gates = (e.gate?.checks ?? [])
          .filter((c) => c.score === s.name)
          .map((c) => `${icon(c)} ${c.kind}`)
          .join(" ");
        lines.push(`| ${cell(e.info.name)} | ${cell(s.name)} | ${mean} | ${change} | ${moved} | ${gates} |`);
      }
    }
    lines.push("");
  }
  for (const { e, c } of failedChecks) {
    lines.push(`#### ${icon(c)} ${cell(e.info.name)}${c.score ? ` › ${cell(c.score)}` : ""}: ${c.kind}`, "");
    lines.push(cell(c.message), "");
    if (c.hint) lines.push(`Hint: ${cell(c.hint)}`, "");
    if (c.worstRows?.length) {
      lines.push(
        "| Row | Before | After | Input | Output before | Output after |",
        "|---|---|---|---|---|---|",
      );
      for (const r of c.worstRows) {
        const [outBefore, outAfter] = previewPair(r.outputBefore, r.outputAfter, 60);
        const after = r.errorAfter ? `error: ${short(r.errorAfter, 60)}` : outAfter;
        const [before, afterScore] = scorePair(r.before, r.after);
        lines.push(
          `| ${code(r.rowKey, true)} | ${before} | ${afterScore} | ${cell(preview(r.input, 60))} | ${cell(outBefore)} | ${cell(after)} |`,
        );
      }
      lines.push("");
    }
  }
  if (result.problems.length > 0) {
    lines.push("#### ❌ Eval files that did not load", "");
    for (const p of result.problems) {
      const where = `${shownPath(p.file, cwd)}${p.line !== undefined ? `:${p.line}` : ""}`;
      lines.push(`- ${code(where)} ${cell(p.message)}`);
    }
    lines.push("");
  }
  const other = result.reasons.filter(
    (r) => !failedChecks.some(({ e, c }) => r === `${e.info.name}: ${c.message}`),
  );
  if (other.length > 0 || result.notes.length > 0) {
    for (const r of other) lines.push(`- ❌ ${cell(r)}`);
    for (const n of result.notes) lines.push(`- ${cell(n)}`);
    lines.push("");
  }
  return `${lines.join("\n")}\n`;
}

/** `--reporter markdown`: the summary above, written when the run ends. */
export class MarkdownReporter implements Reporter {
  constructor(private readonly o: { dest: Destination; cwd: string; onWritten?: (shown: string) => void }) {}

  onRunEnd(result: RunResult): void {
    emit(this.o.dest, renderMarkdown(result, this.o.cwd), "markdown");
    if (this.o.dest.kind === "file") this.o.onWritten?.(this.o.dest.shown);
  }
}
