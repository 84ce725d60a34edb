import type { Writable } from "node:stream";
import type { EvalInfo, RowResult } from "../engine/types.js";
import { percent, signedPercent } from "../gate/format.js";
import type { Problem } from "../loader/problems.js";
import type { ExperimentSummary } from "../summary/types.js";
import type { Colors } from "./colors.js";
import { formatPercent, formatSeconds, plural, shownPath, stackLocation, tokenTotals } from "./format.js";
import { gateFailed, gateLines, scoreIntervals } from "./gate-lines.js";
import { formatProblem, indent } from "./problems.js";
import type { Progress } from "./progress.js";
import type { EvalOutcome, Reporter, RunResult } from "./reporter.js";
import { clip, hanging, inertForActions, onActions, oneLine, printable, rowLabel } from "./safe-text.js";

export interface TerminalReporterOptions {
  out: Writable;
  err: Writable;
  cwd: string;
  colors: Colors;
  verbose: boolean;
  progress?: Progress | undefined;
  /** Errored rows listed per eval (all of them with --verbose). */
  maxErrorsShown?: number;
  /** False with --no-store: `evalrun show` cannot then show what the summary cut. */
  stored?: boolean;
  /** On GitHub Actions (default: GITHUB_ACTIONS=true), lines that the runner would read as commands are defused. */
  githubActions?: boolean;
}

/** An error message in the summary: longer ones are cut (--verbose prints them whole). */
const MESSAGE_LIMITS = { chars: 1000, lines: 20 };

interface ErrorSample {
  row: number;
  /** The row's id, when the data gives one. */
  id: string | undefined;
  trial: number;
  kind: string;
  message: string;
  where: string | undefined;
  stack: string | undefined;
  /** Later rows that failed with the same message (a missing API key fails every row alike). */
  repeats: number;
}

/** A scorer's error without the scorer's name: one missing API key fails every LLM scorer alike, shown once. */
/**
 * What a row's error is, for listing each cause once: a scorer's name aside, and for an LLM provider's answer its
 * numbers and request ids aside too (OpenAI's 429s say how many tokens were used and when to retry, different for
 * every request, so the one rate limit of a run was listed once per row and scorer).
 */
const causeOf = (message: string) => {
  const cause = message.replace(/^Scorer "[^"]*" threw /, "");
  return cause.includes("The LLM provider at ")
    ? cause.replace(/\breq_[A-Za-z0-9]+/g, "req_").replace(/\d+(?:\.\d+)?/g, "#")
    : cause;
};

/** The human summary: problems first (stderr), then a block per eval as it finishes, then one closing line. */
export class TerminalReporter implements Reporter {
  /** Per eval: the errored rows kept for display, how many rows they cover, and how many rows errored. */
  private readonly samples = new Map<
    string,
    { shown: ErrorSample[]; listed: number; covered: number; total: number }
  >();
  private readonly maxShown: number;
  private readonly actions: boolean;

  constructor(private readonly o: TerminalReporterOptions) {
    this.maxShown = o.verbose ? Number.POSITIVE_INFINITY : (o.maxErrorsShown ?? 5);
    this.actions = o.githubActions ?? onActions();
  }

  private print(text: string): void {
    const safe = this.actions ? inertForActions(text) : text;
    if (this.o.progress?.active) this.o.progress.log(`${safe}\n`);
    else this.o.out.write(`${safe}\n`);
  }

  onRunStart(evals: EvalInfo[], problems: Problem[]): void {
    for (const problem of problems) {
      const text = formatProblem(problem, this.o.cwd, this.o.colors, this.o.verbose);
      this.o.err.write(`${this.actions ? inertForActions(text) : text}\n\n`);
    }
    this.o.progress?.start(evals);
  }

  onEvalSize(ev: EvalInfo, rows: number): void {
    this.o.progress?.setTotal(ev, rows * ev.trialCount);
  }

  onRow(ev: EvalInfo, row: RowResult): void {
    this.o.progress?.tick(ev, row.error !== undefined || row.score_errors !== undefined);
    if (!row.error && !row.score_errors) return;
    let entry = this.samples.get(ev.name);
    if (!entry) {
      entry = { shown: [], listed: 0, covered: 0, total: 0 };
      this.samples.set(ev.name, entry);
    }
    entry.total++;
    // A failed task's row has no scorer errors, but may have its errorScoreHandler's.
    const messages = [
      ...(row.error ? [{ kind: row.error.kind, message: row.error.message }] : []),
      ...Object.values(row.score_errors ?? {}).map((message) => ({ kind: "score", message })),
    ];
    // Distinct causes only, within the row too: two LLM scorers failing for one missing key are one line.
    const fresh: ErrorSample[] = [];
    for (const m of messages) {
      const cause = causeOf(m.message);
      const same = this.o.verbose
        ? undefined
        : (entry.shown.find((e) => e.kind === m.kind && causeOf(e.message) === cause) ??
          fresh.find((e) => e.kind === m.kind && causeOf(e.message) === cause));
      if (same) {
        same.repeats++;
        continue;
      }
      fresh.push({
        row: row.row_index,
        id: row.row_id,
        trial: row.trial_index,
        kind: m.kind,
        message: m.message,
        where: row.error ? stackLocation(row.error.stack, this.o.cwd) : undefined,
        stack: row.error?.stack,
        repeats: 0,
      });
    }
    if (fresh.length === 0) {
      entry.covered++;
      return;
    }
    if (entry.listed >= this.maxShown) return;
    entry.listed++;
    entry.covered++;
    entry.shown.push(...fresh);
  }

  onEvalEnd(ev: EvalInfo, summary: ExperimentSummary, outcome: EvalOutcome): void {
    this.o.progress?.finish(ev);
    const c = this.o.colors;
    const m = summary.metrics;
    // Errors within --max-error-rate are shown, counted, and do not fail the eval.
    const failed =
      outcome.failure !== undefined ||
      (m.errors.metric > 0 && outcome.errorsTolerated !== true) ||
      gateFailed(outcome.gate);
    const mark = outcome.interrupted ? c.yellow("■") : failed ? c.red("✘") : c.green("✔");
    const lines: string[] = [];
    lines.push(`${mark} ${c.bold(oneLine(ev.name))}  ${c.dim(shownPath(ev.file, this.o.cwd))}`);
    lines.push(
      `  ${c.dim("experiment")}  ${oneLine(summary.experiment_name)}${outcome.interrupted ? c.yellow("  (interrupted)") : ""}`,
    );
    const cmp = outcome.comparison;
    if (cmp) {
      const unmatched = [
        cmp.onlyNew > 0 ? `${cmp.onlyNew} only in this run` : "",
        cmp.onlyBase > 0 ? `${cmp.onlyBase} only in the baseline` : "",
      ].filter(Boolean);
      // Rows of one key (a repeated id, or the same input without ids) are compared as one row: "2 rows matched" of
      // 4 needs saying. Only for a whole run, whose rows read are the rows it ran.
      const keys = cmp.matchedRows + cmp.onlyNew;
      const whole = outcome.rowsRead * ev.trialCount === m.rows.metric;
      const shared =
        whole && outcome.rowsRead > keys
          ? ` · ${plural(outcome.rowsRead - keys, "row")} ${outcome.rowsRead - keys === 1 ? "repeats" : "repeat"} another row's id or input (compared as one)`
          : "";
      lines.push(
        `  ${c.dim("baseline")}    ${cmp.experimentName} · ${plural(cmp.matchedRows, "row")} matched${unmatched.length ? ` · ${unmatched.join(", ")}` : ""}${shared}`,
      );
    }
    // Only when it is the product: an interrupted, resumed or partly re-run eval has other counts.
    const trials =
      ev.trialCount > 1 && outcome.rowsRead > 0 && outcome.rowsRead * ev.trialCount === m.rows.metric
        ? ` (${plural(outcome.rowsRead, "row")} × ${ev.trialCount} trials)`
        : "";
    // Said, since such a run passes: an empty export, a query that returned nothing, or a --filter with a typo in
    // its field looks like a clean run.
    const given = outcome.rowsGiven;
    const empty =
      outcome.interrupted || outcome.failure !== undefined || given === undefined
        ? ""
        : given === 0
          ? ` · ${c.yellow("its data gave no rows")} (no baseline for later runs)`
          : outcome.rowsRead === 0
            ? ` · ${c.yellow(`--filter kept none of its ${plural(given, "row")}`)}`
            : "";
    const errorText = m.errors.metric > 0 ? c.red(plural(m.errors.metric, "error")) : "0 errors";
    lines.push(
      `  ${c.dim("rows")}        ${m.rows.metric}${trials} · ${errorText}${this.errorBreakdown(outcome)}${empty}`,
    );
    lines.push(
      `  ${c.dim("duration")}    ${formatSeconds(m.duration.metric)} · per row p50 ${formatSeconds(m.duration_p50.metric)}, p95 ${formatSeconds(m.duration_p95.metric)}`,
    );
    const tokens = tokenTotals(m);
    if (tokens !== undefined) lines.push(`  ${c.dim("tokens")}      ${tokens}`);
    const scores = Object.values(summary.scores);
    if (scores.length > 0) {
      lines.push(`  ${c.dim("scores")}`);
      const width = Math.max(...scores.map((s) => oneLine(s.name).length));
      for (const s of scores) {
        // A scorer that never returns (a missing `return`) would otherwise pass as a green eval with a dash.
        const unscored =
          s.scored === 0 && s.errors === 0 && m.rows.metric > m.errors.metric
            ? ` · ${c.yellow("no row got a score: it returned null or undefined for each")}`
            : "";
        const extra = s.errors > 0 ? ` · ${c.red(plural(s.errors, "error"))}` : unscored;
        const before = cmp?.means[s.name];
        const change = cmp
          ? `  ${this.change(s.diff, typeof before === "number" && s.score === null ? before : undefined, s.name in cmp.means, cmp.onlyBase + cmp.onlyNew > 0)}  ${this.movement(s.improvements, s.regressions)}`
          : "";
        lines.push(
          `    ${oneLine(s.name).padEnd(width)}  ${c.bold(formatPercent(s.score).padStart(6))}${change}  ${c.dim(`${s.scored} scored`)}${extra}${scoreIntervals(outcome.stats?.scores[s.name], outcome.stats?.confidence ?? 0.95, c, cmp ? s.diff : undefined)}`,
        );
      }
    }
    lines.push(...gateLines(outcome.gate, c));
    if (outcome.failure) {
      lines.push(
        `  ${c.red(`[${outcome.failure.code}]`)} ${hanging(printable(outcome.failure.message), "    ")}`,
      );
      if (outcome.failure.hint)
        lines.push(`  ${c.dim("hint:")} ${hanging(printable(outcome.failure.hint), "    ")}`);
    }
    const errors = this.samples.get(ev.name);
    if (errors && errors.total > 0) {
      lines.push(`  ${c.dim("errors")}`);
      for (const e of errors.shown) {
        const trial = ev.trialCount > 1 ? ` trial ${e.trial}` : "";
        const again = e.repeats > 0 ? c.dim(` (and ${e.repeats} more with this error)`) : "";
        lines.push(
          `    ${c.red(`${rowLabel(e.row, e.id)}${trial}`)} ${c.dim(e.kind)}  ${this.message(e.message, summary)}${again}`,
        );
        if (this.o.verbose && e.stack)
          lines.push(indent(printable(e.stack).split("\n").slice(1).join("\n"), "      "));
        else if (e.where) lines.push(`      ${c.dim(`at ${e.where}`)}`);
      }
      const more = errors.total - errors.covered;
      if (more > 0)
        lines.push(`    ${c.dim(`… and ${more} more errored rows (--verbose lists them all, with stacks)`)}`);
    }
    // A resumed or repaired experiment counts rows stored before this run, which this run never saw.
    const earlier = m.errors.metric - (errors?.total ?? 0);
    if (earlier > 0) {
      if (!errors || errors.total === 0) lines.push(`  ${c.dim("errors")}`);
      lines.push(
        `    ${c.dim(`… and ${plural(earlier, "errored row")} stored before this run (\`evalrun show ${summary.experiment_name}\` lists them)`)}`,
      );
    }
    this.print(`${lines.join("\n")}\n`);
  }

  /**
   * A row's error message, safe to print: control characters escaped, continuation lines indented under the
   * row, and a long message cut, saying where the rest is.
   */
  private message(message: string, summary: ExperimentSummary): string {
    const { text, cut } = this.o.verbose
      ? { text: printable(message), cut: 0 }
      : clip(printable(message), MESSAGE_LIMITS);
    const where =
      this.o.stored === false ? "" : `; so does \`evalrun show ${oneLine(summary.experiment_name)}\``;
    const note =
      cut > 0
        ? `\n${this.o.colors.dim(`… ${cut.toLocaleString("en-US")} more character${cut === 1 ? "" : "s"} (--verbose prints the whole message${where})`)}`
        : "";
    return hanging(`${text}${note}`, "        ");
  }

  /**
   * `(+4.0%)`: the change of the mean in percentage points, green up, red down. A score the baseline has but this
   * run scored no row of is not new: it says what it was (it used to read "(new)").
   */
  /**
   * The change of the means. Not coloured when the two means are over different rows (`--first`, `--filter`, rows
   * added or removed): a subset's mean against the whole baseline's read as a red -62% on rows that had not changed;
   * the line's paired change over matched rows is then shown, coloured, beside it.
   */
  private change(
    diff: number | null,
    lost: number | undefined,
    inBaseline: boolean,
    otherRows: boolean,
  ): string {
    const c = this.o.colors;
    if (lost !== undefined) return c.red(`(was ${percent(lost)})`.padStart(8));
    // A score the baseline had but never scored (null on every row there too) is not new.
    if (diff === null) return c.dim((inBaseline ? "(–)" : "(new)").padStart(8));
    const text = `(${signedPercent(diff)})`.padStart(8);
    return Math.abs(diff) < 0.0005 || otherRows ? c.dim(text) : diff > 0 ? c.green(text) : c.red(text);
  }

  private movement(improvements: number, regressions: number): string {
    const c = this.o.colors;
    const up = plural(improvements, "improvement");
    const down = plural(regressions, "regression");
    return `${improvements > 0 ? c.green(up) : c.dim(up)}  ${regressions > 0 ? c.red(down) : c.dim(down)}`;
  }

  private errorBreakdown(o: EvalOutcome): string {
    const parts: string[] = [];
    if (o.taskErrors) parts.push(`${o.taskErrors} task`);
    if (o.timeouts) parts.push(`${o.timeouts} timeout`);
    if (o.scorerErrorRows) parts.push(`${o.scorerErrorRows} scorer`);
    if (o.dataErrors) parts.push(`${o.dataErrors} bad row`);
    return parts.length > 0 ? this.o.colors.dim(` (${parts.join(", ")})`) : "";
  }

  onRunEnd(result: RunResult): void {
    this.o.progress?.stop();
    const c = this.o.colors;
    const rows = result.evals.reduce((n, e) => n + e.summary.metrics.rows.metric, 0);
    const errors = result.evals.reduce((n, e) => n + e.summary.metrics.errors.metric, 0);
    const parts = [plural(result.evals.length, "eval"), plural(rows, "row result"), plural(errors, "error")];
    if (result.problems.length > 0) parts.push(c.red(plural(result.problems.length, "file problem")));
    parts.push(formatSeconds(result.durationSeconds));
    const status = result.interrupted
      ? c.yellow("Interrupted")
      : result.exitCode === 0
        ? c.green("Done")
        : c.red("Failed");
    this.print(`${status}: ${parts.join(" · ")}`);
    for (const line of [...result.reasons, ...result.notes])
      this.print(`  ${c.dim("·")} ${hanging(printable(line), "    ")}`);
    if (result.store !== ":memory:" && result.evals.length > 0) {
      this.print(
        c.dim(
          `  · experiments stored in ${shownPath(result.store, this.o.cwd)} (\`evalrun experiments\` lists them)`,
        ),
      );
    }
  }
}
