import type { Colors } from "../report/colors.js";
import { formatPercent, formatSeconds, plural, shownPath } from "../report/format.js";
import { rowLabel } from "../report/safe-text.js";
import type { EvalState, RunRecord } from "./state.js";

export interface BlockOptions {
  cwd: string;
  colors: Colors;
  verbose: boolean;
}

/** `+4.0% vs previous`: a change of the mean in percentage points, green up, red down, dim when none. */
function change(now: number | null, before: number | null | undefined, label: string, c: Colors): string {
  if (before === undefined) return c.dim(`new vs ${label}`);
  if (now === null || before === null) return c.dim(`– vs ${label}`);
  const diff = now - before;
  if (Math.abs(diff) < 0.0005) return c.dim(`±0.0% vs ${label}`);
  const text = `${diff > 0 ? "+" : "-"}${Math.abs(diff * 100).toFixed(1)}% vs ${label}`;
  return diff > 0 ? c.green(text) : c.red(text);
}

function header(ev: EvalState, last: RunRecord, o: BlockOptions): string {
  const c = o.colors;
  const m = last.summary.metrics;
  const failed = last.outcome.failure !== undefined || m.errors.metric > 0;
  const mark = failed ? c.red("✘") : c.green("✔");
  const errors = m.errors.metric > 0 ? c.red(plural(m.errors.metric, "error")) : "0 errors";
  const rerun = last.rerunOf !== undefined ? ` · ${plural(last.rerunOf, "failing result")} re-run` : "";
  return `${mark} ${c.bold(ev.name)}  ${c.dim(shownPath(ev.file, o.cwd))} · ${plural(m.rows.metric, "row")} · ${errors} · ${formatSeconds(m.duration.metric)}${rerun}`;
}

/**
 * One eval's compact block: each score with its change against the previous run in this session and against
 * the session's baseline, then the first errored rows. While the eval runs again, that result shows dimmed.
 */
export function evalBlock(ev: EvalState, o: BlockOptions): string {
  const c = o.colors;
  const last = ev.last;
  const lines: string[] = [];
  if (ev.running) {
    const { rows, total } = ev.running;
    lines.push(
      `${c.cyan("●")} ${c.bold(ev.name)}  ${c.dim(shownPath(ev.file, o.cwd))} · running, ${total !== undefined ? `${rows}/${total}` : rows} rows`,
    );
  } else if (last) {
    lines.push(header(ev, last, o));
  } else {
    lines.push(`${c.dim("○")} ${c.bold(ev.name)}  ${c.dim(shownPath(ev.file, o.cwd))}`);
  }
  if (ev.failure) lines.push(`    ${c.red(ev.failure)}`);
  if (!last) return lines.join("\n");
  const shade = ev.running ? c.dim : (text: string) => text;
  const scores = Object.values(last.summary.scores);
  const width = Math.max(0, ...scores.map((s) => s.name.length));
  for (const s of scores) {
    const parts = [`${s.name.padEnd(width)}  ${c.bold(formatPercent(s.score).padStart(6))}`];
    if (ev.previous) parts.push(change(s.score, ev.previous.summary.scores[s.name]?.score, "previous", c));
    if (ev.base) parts.push(change(s.score, ev.base.means[s.name], ev.base.name, c));
    if (s.errors > 0) parts.push(c.red(plural(s.errors, "error")));
    lines.push(shade(`    ${parts.join("  ")}`));
  }
  const failure = last.outcome.failure;
  if (failure) {
    lines.push(shade(`    ${c.red(`[${failure.code}]`)} ${failure.message}`));
    if (failure.hint) lines.push(shade(`    ${c.dim("hint:")} ${failure.hint}`));
  }
  for (const e of last.errors) {
    const trial = last.outcome.info.trialCount > 1 ? ` trial ${e.trial}` : "";
    const where = e.where ? c.dim(` (${e.where})`) : "";
    lines.push(
      shade(`    ${c.red(`${rowLabel(e.row, e.id)}${trial}`)} ${c.dim(e.kind)}  ${e.message}${where}`),
    );
  }
  const more = last.errorRows - new Set(last.errors.map((e) => `${e.row}:${e.trial}`)).size;
  if (more > 0) lines.push(shade(`    ${c.dim(`… and ${plural(more, "more errored row")}`)}`));
  return lines.join("\n");
}
