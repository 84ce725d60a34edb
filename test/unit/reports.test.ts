import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EvalrunError } from "../../src/define/errors.js";
import type { EvalInfo } from "../../src/engine/types.js";
import type { GateCheck } from "../../src/gate/types.js";
import { colorsFor } from "../../src/report/colors.js";
import { MemoryStream } from "../../src/report/destination.js";
import { GithubReporter } from "../../src/report/github.js";
import { JsonlReporter } from "../../src/report/jsonl.js";
import { JunitReporter } from "../../src/report/junit.js";
import { renderMarkdown } from "../../src/report/markdown.js";
import type { EvalOutcome, RunResult } from "../../src/report/reporter.js";
import { inertForActions } from "../../src/report/safe-text.js";
import { xmlText } from "../../src/report/xml.js";
import { checkJunit, findAll, parseXml } from "../helpers/junit.js";

const metric = (name: string, value: number) => ({ name, metric: value, unit: "" });

/** One eval's outcome, as the runner hands it to reporters, with the gate checks given. */
function outcome(name: string, scoreName: string, checks: GateCheck[] = []): EvalOutcome {
  const info: EvalInfo = {
    name,
    file: "/p/evals/a.eval.ts",
    experimentName: "exp-1",
    experimentId: undefined,
    baselineName: undefined,
    description: undefined,
    metadata: {},
    tags: [],
    trialCount: 1,
    maxConcurrency: 1,
    timeout: undefined,
    scorerNames: [scoreName],
  };
  return {
    info,
    summary: {
      project_name: "p",
      experiment_name: "exp-1",
      comparison_experiment_name: null,
      scores: {
        [scoreName]: {
          name: scoreName,
          score: 0.5,
          diff: null,
          improvements: 0,
          regressions: 0,
          scored: 2,
          errors: 0,
        },
      },
      metrics: {
        rows: metric("rows", 2),
        errors: metric("errors", 0),
        duration: metric("duration", 0.1),
        duration_p50: metric("duration_p50", 0.01),
        duration_p95: metric("duration_p95", 0.02),
      },
    },
    rowsRead: 2,
    taskErrors: 0,
    timeouts: 0,
    dataErrors: 0,
    scorerErrorRows: 0,
    interrupted: false,
    failure: undefined,
    comparison: undefined,
    gate: { checks, notes: [] },
  };
}

function run(evals: EvalOutcome[], extra: Partial<RunResult> = {}): RunResult {
  return {
    evals,
    problems: [],
    interrupted: false,
    exitCode: 1,
    reasons: [],
    notes: [],
    store: ":memory:",
    durationSeconds: 1,
    ...extra,
  };
}

describe("the markdown summary", () => {
  it("shows eval text as written: HTML escaped, control characters escaped, markdown punctuation inert", () => {
    const check: GateCheck = {
      kind: "regression",
      score: "na|me <x>",
      status: "fail",
      message: "na|me <x> dropped 10.0% [-12.0%, -8.0%] at 95% over 40 matched rows; 4 regressed, 0 improved",
      worstRows: [
        {
          rowKey: "id:a|<b>",
          before: 1,
          after: 0,
          input: "<context>Tom & Jerry</context>\u0007",
          expected: undefined,
          outputBefore: "**yes**",
          outputAfter: "[click](https://x.test)",
          errorAfter: undefined,
        },
      ],
    };
    const md = renderMarkdown(
      run([outcome("odd <&> eval\u0007", "na|me <x>", [check])], { reasons: ["# heading? <img src=x>"] }),
      "/p",
    );
    expect(md).toContain(
      "| odd &lt;&amp;&gt; eval\\\\u0007 | na\\|me &lt;x&gt; | 50.0% | – | – | ❌ regression |",
    );
    expect(md).toContain("#### ❌ odd &lt;&amp;&gt; eval\\\\u0007 › na\\|me &lt;x&gt;: regression");
    expect(md).toContain("\nna\\|me &lt;x&gt; dropped 10.0% \\[-12.0%, -8.0%\\] at 95% over 40 matched rows");
    expect(md).toContain(
      '| `id:a\\|<b>` | 1.00 | 0.00 | "&lt;context&gt;Tom &amp; Jerry&lt;/context&gt;\\\\u0007" | "\\*\\*yes\\*\\*" | "\\[click\\](https://x.test)" |',
    );
    expect(md).toContain("- ❌ \\# heading? &lt;img src=x&gt;");
    // Outside code spans (shown literally), no `<` is left for GitHub to read as HTML.
    expect(md.replace(/`[^`]*`/g, "")).not.toContain("<");
    expect([...md].filter((ch) => ch < " " && ch !== "\n")).toEqual([]);
    // A key holding backticks is fenced by a longer run of them, so it is shown as it is.
    const ticks = {
      ...check,
      worstRows: [{ ...(check.worstRows?.[0] as object), rowKey: "id:k`t``x" }],
    } as GateCheck;
    const fenced = renderMarkdown(run([outcome("e", "na|me <x>", [ticks])]), "/p");
    expect(fenced).toContain("| ```id:k`t``x``` |");
  });
});

describe("the github reporter's job summary", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "evalrun-summary-"));

  it("that cannot be written is said once on stderr, before the run, and the run goes on", () => {
    writeFileSync(path.join(dir, "file"), "");
    const bad = path.join(dir, "file", "summary.md");
    const err = new MemoryStream();
    const annotations = new MemoryStream();
    const reporter = new GithubReporter({ annotations, cwd: dir, env: { GITHUB_STEP_SUMMARY: bad }, err });
    reporter.onRunStart();
    expect(err.text()).toBe(
      `evalrun: cannot write the job summary to $GITHUB_STEP_SUMMARY (${bad}): ENOTDIR: not a directory, open '${bad}'; the run goes on without it.\n`,
    );
    expect(() => reporter.onRunEnd(run([outcome("a", "Acc")], { exitCode: 0 }))).not.toThrow();
    expect(err.text().split("\n")).toHaveLength(2);
  });

  it("is appended to when it can be", () => {
    const good = path.join(dir, "summary.md");
    writeFileSync(good, "# earlier step\n");
    const reporter = new GithubReporter({
      annotations: new MemoryStream(),
      cwd: dir,
      env: { GITHUB_STEP_SUMMARY: good },
    });
    reporter.onRunStart();
    reporter.onRunEnd(run([outcome("a", "Acc")], { exitCode: 0 }));
    expect(readFileSync(good, "utf8")).toMatch(/^# earlier step\n### ✅ evalrun: passed\n/);
  });
});

describe("the junit report of a run that did not end well", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "evalrun-junit-"));

  function junit(result: RunResult): ReturnType<typeof checkJunit> {
    const file = path.join(dir, "junit.xml");
    const reporter = new JunitReporter({
      dest: { kind: "file", path: file, shown: file },
      cwd: dir,
      rowRules: [],
    });
    for (const e of result.evals) reporter.onEvalEnd(e.info, e.summary, e);
    reporter.onRunEnd(result);
    return checkJunit(readFileSync(file, "utf8"));
  }

  it("has an error in the evalrun suite when the run was interrupted, naming the evals stopped early", () => {
    const stopped = { ...outcome("support", "Acc"), interrupted: true };
    const root = junit(run([stopped, outcome("other", "Acc")], { interrupted: true, exitCode: 130 }));
    expect(root.attrs.errors).toBe("1");
    const suite = root.children.find((s) => s.attrs.name === "evalrun");
    const error = findAll(suite as never, "error")[0];
    expect(error?.attrs.type).toBe("interrupted");
    expect(error?.attrs.message).toMatch(
      /^The run was interrupted .* this report has only the rows that finished\.$/,
    );
    expect(error?.text).toContain("Evals stopped early: support.");
  });

  it("has an error in the evalrun suite for each misconfigured gate (exit 2)", () => {
    const wrong = new EvalrunError(
      "USAGE",
      '--min-score Acuracy=0.5 names the score "Acuracy", which no eval of this run produced',
      'Did you mean "Accuracy"?',
    );
    const root = junit(run([outcome("support", "Accuracy")], { exitCode: 2, gateErrors: [wrong] }));
    expect(root.attrs).toMatchObject({ errors: "1", failures: "0" });
    const suite = root.children.find((s) => s.attrs.name === "evalrun");
    const error = findAll(suite as never, "error")[0];
    expect(error?.attrs).toMatchObject({ type: "gate-config", message: wrong.message });
    expect(error?.text).toContain('hint: Did you mean "Accuracy"?');
  });

  it("has no evalrun suite when the run ended well", () => {
    const root = junit(run([outcome("support", "Acc")], { exitCode: 0 }));
    expect(root.children.map((s) => s.attrs.name)).toEqual(["support"]);
  });
});

describe("the github reporter's annotations", () => {
  const failed = (name: string): EvalOutcome =>
    outcome(name, "Acc", [
      { kind: "threshold", score: "Acc", status: "fail", message: "Acc 50.0% is below its minimum 90.0%" },
    ]);

  function annotate(result: RunResult): string[] {
    const annotations = new MemoryStream();
    new GithubReporter({ annotations, cwd: "/p", env: {} }).onRunEnd(result);
    return annotations.text().trimEnd().split("\n");
  }

  it("are at most 10, as GitHub shows, the last saying how many more problems there are and where to read them", () => {
    const lines = annotate(run(Array.from({ length: 30 }, (_, i) => failed(`eval${i}`))));
    expect(lines).toHaveLength(10);
    expect(lines[8]).toMatch(
      /^::error file=evals\/a\.eval\.ts,line=1,title=evalrun%3A eval8 Acc threshold::/,
    );
    expect(lines[9]).toBe(
      "::error title=evalrun%3A 21 more problems::21 more problems are not annotated (GitHub shows 10 error annotations per step): this step's log and the job summary list them all.",
    );
    expect(annotate(run(Array.from({ length: 10 }, (_, i) => failed(`eval${i}`))))).toHaveLength(10);
  });

  it("put a misconfigured gate before the evals' problems, so the cap never hides why the run exited 2", () => {
    const wrong = new EvalrunError(
      "USAGE",
      "--min-score Acuracy=0.5 names no score",
      "Did you mean Accuracy?",
    );
    const lines = annotate(
      run(
        Array.from({ length: 12 }, (_, i) => failed(`eval${i}`)),
        { gateErrors: [wrong] },
      ),
    );
    expect(lines[0]).toMatch(/^::error title=evalrun%3A gate misconfigured::--min-score Acuracy=0\.5/);
  });
});

describe("machine-readable reports on stdout on GitHub Actions", () => {
  const loud = "x\n::stop-commands::t ##[add-mask]y";

  it("defuse workflow commands in each format's own escapes, so the report still reads back the same", () => {
    const json = `${JSON.stringify({ a: loud, b: "##[error]z" }, null, 2)}\n`;
    const safeJson = inertForActions(json);
    expect(safeJson).not.toContain("##[");
    expect(JSON.parse(safeJson)).toEqual(JSON.parse(json));

    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<x a="##[y]">${xmlText(loud)}</x>`;
    const safeXml = inertForActions(xml, "xml");
    expect(safeXml.split("\n").some((l) => l.trimStart().startsWith("::") || l.includes("##["))).toBe(false);
    expect(parseXml(safeXml)).toEqual(parseXml(xml));

    expect(inertForActions("::x::y ##[z]", "markdown")).toBe("\\::x::y ##\\[z]");
  });

  it("the jsonl reporter writes summaries that parse back unchanged, and no workflow command", () => {
    const out = new MemoryStream();
    const err = new MemoryStream();
    const reporter = new JsonlReporter({
      out,
      err,
      cwd: "/p",
      colors: colorsFor({}),
      verbose: false,
      githubActions: true,
    });
    const e = outcome("##[add-mask]secret", "Acc");
    const failed = {
      ...e,
      failure: { code: "BAD_DATA" as const, message: "bad\n::error::fake", hint: undefined },
    };
    reporter.onEvalEnd(e.info, { ...e.summary, experiment_name: "##[add-mask]secret" }, failed);
    expect(out.text()).not.toContain("##[");
    expect(JSON.parse(out.text()).experiment_name).toBe("##[add-mask]secret");
    expect(err.text()).toBe("[BAD_DATA] bad\n  \\u003a:error::fake\n");
  });
});
