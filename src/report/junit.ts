import os from "node:os";
import { EvalrunError } from "../define/errors.js";
import type { EvalInfo, RowResult } from "../engine/types.js";
import { scorePair } from "../gate/format.js";
import { effectiveRule, type ScoreRule } from "../gate/thresholds.js";
import type { GateCheck } from "../gate/types.js";
import type { ExperimentSummary } from "../summary/types.js";
import { type Destination, emit } from "./destination.js";
import { shownPath } from "./format.js";
import { worstRowLine } from "./gate-lines.js";
import type { EvalOutcome, Reporter, RunResult } from "./reporter.js";
import { preview } from "./values.js";
import { openTag, xmlText } from "./xml.js";

/** One data row: its trials' results folded together (a testcase per row, not per trial). */
interface RowCase {
  index: number;
  key: string;
  input: string;
  trials: number;
  seconds: number;
  errors: Array<{ kind: string; message: string }>;
  sums: Record<string, number>;
  counts: Record<string, number>;
}

interface Testcase {
  name: string;
  classname: string;
  time?: number | undefined;
  failure?: { type: string; message: string; body: string } | undefined;
  error?: { type: string; message: string; body: string } | undefined;
  out?: string | undefined;
}

const seconds = (s: number) => s.toFixed(3);

function testcaseXml(t: Testcase): string {
  const open = openTag("testcase", {
    name: t.name,
    classname: t.classname,
    time: t.time === undefined ? undefined : seconds(t.time),
  });
  const inner: string[] = [];
  for (const [tag, f] of [
    ["error", t.error],
    ["failure", t.failure],
  ] as const) {
    if (f)
      inner.push(`      ${openTag(tag, { type: f.type, message: f.message })}>${xmlText(f.body)}</${tag}>`);
  }
  if (t.out) inner.push(`      <system-out>${xmlText(t.out)}</system-out>`);
  return inner.length === 0 ? `    ${open}/>` : `    ${open}>\n${inner.join("\n")}\n    </testcase>`;
}

function suiteXml(
  attrs: Record<string, string | number | undefined>,
  properties: Array<[string, string]>,
  cases: Testcase[],
): string {
  const failures = cases.filter((t) => t.failure).length;
  const errors = cases.filter((t) => t.error).length;
  const lines = [
    `  ${openTag("testsuite", { name: attrs.name, tests: cases.length, failures, errors, skipped: 0, ...attrs })}>`,
  ];
  if (properties.length > 0) {
    lines.push("    <properties>");
    for (const [name, value] of properties) lines.push(`      ${openTag("property", { name, value })}/>`);
    lines.push("    </properties>");
  }
  for (const t of cases) lines.push(testcaseXml(t));
  lines.push("  </testsuite>");
  return lines.join("\n");
}

/** `2026-11-29T21:30:00`: the schema's timestamp has no zone; it is UTC. */
const timestamp = (ms: number) => new Date(ms).toISOString().slice(0, 19);

/**
 * JUnit XML, the format CI systems read: a testsuite per eval with a testcase per data row (failed when it errored
 * or missed a --row-threshold), its scores as properties, and each gate as a testcase of its own; file problems
 * (compile, load) are errors in a testsuite named "evalrun". Follows Jenkins' junit-10.xsd.
 */
export class JunitReporter implements Reporter {
  private readonly rows = new Map<string, Map<string, RowCase>>();
  private readonly ended: Array<{
    ev: EvalInfo;
    summary: ExperimentSummary;
    outcome: EvalOutcome;
    at: number;
  }> = [];
  private readonly started = Date.now();

  constructor(
    private readonly o: {
      dest: Destination;
      cwd: string;
      rowRules: readonly ScoreRule[];
      onWritten?: (shown: string) => void;
    },
  ) {}

  onRow(ev: EvalInfo, row: RowResult): void {
    let byKey = this.rows.get(ev.name);
    if (!byKey) {
      byKey = new Map();
      this.rows.set(ev.name, byKey);
    }
    let c = byKey.get(row.row_key);
    if (!c) {
      c = {
        index: row.row_index,
        key: row.row_key,
        input: preview(row.input, 60),
        trials: 0,
        seconds: 0,
        errors: [],
        sums: {},
        counts: {},
      };
      byKey.set(row.row_key, c);
    }
    c.trials++;
    c.seconds += row.metrics.duration;
    const trial = ev.trialCount > 1 ? ` (trial ${row.trial_index})` : "";
    if (row.error) c.errors.push({ kind: row.error.kind, message: `${cut(row.error.message)}${trial}` });
    for (const message of Object.values(row.score_errors ?? {}))
      c.errors.push({ kind: "scorer", message: `${cut(message)}${trial}` });
    for (const name in row.scores) {
      const v = row.scores[name];
      if (typeof v !== "number") continue;
      c.sums[name] = (c.sums[name] ?? 0) + v;
      c.counts[name] = (c.counts[name] ?? 0) + 1;
    }
  }

  onEvalEnd(ev: EvalInfo, summary: ExperimentSummary, outcome: EvalOutcome): void {
    this.ended.push({ ev, summary, outcome, at: Date.now() });
  }

  private rowCase(ev: EvalInfo, c: RowCase): Testcase {
    const means: Array<[string, number]> = Object.keys(c.sums).map((n) => [
      n,
      (c.sums[n] as number) / (c.counts[n] as number),
    ]);
    const out = [`row_key: ${c.key}`, ...means.map(([n, v]) => `${n}: ${Number(v.toFixed(4))}`)].join("\n");
    const t: Testcase = { name: `row ${c.index}: ${c.input}`, classname: ev.name, time: c.seconds, out };
    if (c.errors.length > 0) {
      const first = c.errors[0] as { kind: string; message: string };
      t.error = {
        type: first.kind,
        message: first.message,
        body: c.errors.map((e) => `${e.kind}: ${e.message}`).join("\n"),
      };
    }
    const missed = means.flatMap(([name, v]) => {
      const rule = effectiveRule(this.o.rowRules, ev.name, name);
      return rule && v < rule.value
        ? [`${name} ${scorePair(v, rule.value)[0]} < ${rule.value} (${rule.source})`]
        : [];
    });
    if (missed.length > 0)
      t.failure = { type: "row-threshold", message: missed.join("; "), body: missed.join("\n") };
    return t;
  }

  private gateCase(ev: EvalInfo, check: GateCheck): Testcase {
    const name = `${check.kind}${check.score ? `: ${check.score}` : ""}`;
    const t: Testcase = { name, classname: `${ev.name}.gates` };
    const body = [check.message, ...(check.hint ? [`hint: ${check.hint}`] : [])];
    if (check.worstRows?.length)
      body.push("worst rows:", ...check.worstRows.map((r) => `  ${worstRowLine(r, 80)}`));
    if (check.status === "fail")
      t.failure = { type: check.kind, message: check.message, body: body.join("\n") };
    else if (check.status === "error")
      t.error = { type: "gate-config", message: check.message, body: body.join("\n") };
    else t.out = check.message;
    return t;
  }

  /**
   * What went wrong with the run rather than with one eval's rows, as errors in the "evalrun" suite: files that did
   * not load, an interrupted run, errors that escaped eval code and misconfigured gates. Without them a report of an interrupted run (a cancelled
   * CI job) or of a run that exited 2 reads as an all-green suite in test-report tools.
   */
  private runCases(result: RunResult): Testcase[] {
    const cases: Testcase[] = result.problems.map((p) => ({
      name: `${shownPath(p.file, this.o.cwd)}${p.line !== undefined ? `:${p.line}:${p.column ?? 0}` : ""}`,
      classname: "evalrun.files",
      error: {
        type: p.code,
        message: p.message,
        body: [p.message, p.detail, p.hint].filter(Boolean).join("\n"),
      },
    }));
    if (result.interrupted) {
      const stopped = result.evals.filter((e) => e.interrupted).map((e) => e.info.name);
      const message =
        "The run was interrupted (Ctrl-C, or SIGTERM/SIGHUP from a cancelled job) before every row ran: this report has only the rows that finished.";
      cases.push({
        name: "interrupted",
        classname: "evalrun.run",
        error: {
          type: "interrupted",
          message,
          body: [
            message,
            ...(stopped.length > 0 ? [`Evals stopped early: ${stopped.join(", ")}.`] : []),
          ].join("\n"),
        },
      });
    }
    if (result.escapedErrors) {
      const message = `${result.escapedErrors} error(s) escaped the eval code (a throw in a timer, a promise nobody awaited): the run failed; its log shows where.`;
      cases.push({
        name: "errors escaped the eval code",
        classname: "evalrun.run",
        error: { type: "unhandled", message, body: message },
      });
    }
    for (const error of result.gateErrors ?? []) {
      cases.push({
        name: "gate configuration",
        classname: "evalrun.gates",
        error: {
          type: "gate-config",
          message: error.message,
          body: [error.message, ...(error.hint ? [`hint: ${error.hint}`] : [])].join("\n"),
        },
      });
    }
    return cases;
  }

  onRunEnd(result: RunResult): void {
    const suites: string[] = [];
    let tests = 0;
    let failures = 0;
    let errors = 0;
    const count = (cases: Testcase[]) => {
      tests += cases.length;
      failures += cases.filter((t) => t.failure).length;
      errors += cases.filter((t) => t.error).length;
    };
    const cases = this.runCases(result);
    if (cases.length > 0) {
      count(cases);
      suites.push(
        suiteXml({ name: "evalrun", timestamp: timestamp(this.started), hostname: os.hostname() }, [], cases),
      );
    }
    for (const { ev, summary, outcome, at } of this.ended) {
      const rows = [...(this.rows.get(ev.name)?.values() ?? [])].sort(
        (a, b) => a.index - b.index || (a.key < b.key ? -1 : 1),
      );
      const cases = rows.map((c) => this.rowCase(ev, c));
      if (outcome.failure) {
        cases.push({
          name: "data",
          classname: `${ev.name}.eval`,
          error: {
            type: outcome.failure.code,
            message: outcome.failure.message,
            body: [outcome.failure.message, outcome.failure.hint].filter(Boolean).join("\n"),
          },
        });
      }
      for (const check of outcome.gate?.checks ?? []) cases.push(this.gateCase(ev, check));
      count(cases);
      const properties: Array<[string, string]> = [
        ["experiment", summary.experiment_name],
        ...(summary.comparison_experiment_name
          ? [["baseline", summary.comparison_experiment_name] as [string, string]]
          : []),
        ["rows", String(summary.metrics.rows.metric)],
        ["errors", String(summary.metrics.errors.metric)],
      ];
      for (const s of Object.values(summary.scores)) {
        const stats = outcome.stats?.scores[s.name];
        properties.push([`score.${s.name}`, s.score === null ? "" : String(s.score)]);
        if (stats?.interval)
          properties.push([`score.${s.name}.interval`, `${stats.interval.low} ${stats.interval.high}`]);
        if (s.diff !== null) properties.push([`score.${s.name}.diff`, String(s.diff)]);
        const est = stats?.change?.estimate;
        if (est) properties.push([`score.${s.name}.change.interval`, `${est.low} ${est.high}`]);
        if (stats?.change) {
          properties.push([`score.${s.name}.improvements`, String(s.improvements)]);
          properties.push([`score.${s.name}.regressions`, String(s.regressions)]);
        }
      }
      suites.push(
        suiteXml(
          {
            name: ev.name,
            time: seconds(summary.metrics.duration.metric),
            timestamp: timestamp(at - summary.metrics.duration.metric * 1000),
            hostname: os.hostname(),
            file: ev.file ? shownPath(ev.file, this.o.cwd) : undefined,
          },
          properties,
          cases,
        ),
      );
    }
    const root = openTag("testsuites", {
      name: "evalrun",
      tests,
      failures,
      errors,
      time: seconds(result.durationSeconds),
    });
    let xml: string;
    try {
      xml = `<?xml version="1.0" encoding="UTF-8"?>\n${root}>\n${suites.join("\n")}\n</testsuites>\n`;
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw new EvalrunError(
        "REPORT",
        `The JUnit report${this.o.dest.kind === "file" ? ` ${this.o.dest.shown}` : ""} is too large to write (over 512 MB of XML: one testcase per row). The run itself finished (its results are in the store, unless it ran with --no-store).`,
        "Leave the junit reporter out of runs this large, or gate with --jsonl; `evalrun export` gives every row.",
      );
    }
    emit(this.o.dest, xml, "xml");
    if (this.o.dest.kind === "file") this.o.onWritten?.(this.o.dest.shown);
  }
}

/** Characters of an error message a testcase keeps, as the terminal shows: an API error embedding a 100 KB body, on
 * every tenth row, made a JUnit file of hundreds of MB. */
const MESSAGE_CHARS = 1000;

const cut = (message: string): string =>
  message.length > MESSAGE_CHARS
    ? `${message.slice(0, MESSAGE_CHARS)}… (${message.length - MESSAGE_CHARS} more characters; \`evalrun export\` has the whole message)`
    : message;
