import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { baselineFile } from "../helpers/baseline.js";
import { jsonLines, project, runCli } from "../helpers/cli.js";
import { checkJunit, findAll } from "../helpers/junit.js";
import { storedRows } from "../helpers/store.js";

const PACKAGE = JSON.stringify({ name: "app", private: true, type: "module" });

// What these tests check must not depend on the CI running them: a store named by the environment, or GitHub
// Actions' variables (which would add the github reporter to --ci and append to the real job summary).
beforeAll(() => {
  for (const name of ["EVALRUN_STORE", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_WORKSPACE"])
    delete process.env[name];
});

/** 40 rows; with DROP=1 rows 0-9 lose their Exact score (1 → 0), a drop the regression gate catches. */
const SUPPORT = `import { Eval } from "evalrun";

Eval("support", {
  data: Array.from({ length: 40 }, (_, i) => ({ id: "s" + i, input: "ticket " + i })),
  task: (input: string) => input.toUpperCase(),
  scores: [
    function Exact({ input }: { input: string }) {
      const i = Number(input.split(" ")[1]);
      return process.env.DROP === "1" && i < 10 ? 0 : 1;
    },
  ],
});
`;

/** Three rows: one scores 0.25 (below a row threshold of 0.5), one throws, one is fine; tricky text on purpose. */
const ROUTER = `import { Eval } from "evalrun";

Eval("router", {
  data: [
    { input: "refund <please> & \\"thanks\\"" },
    { input: "crash" },
    { input: "billing\\u0001 ✓" },
  ],
  task: (input: string) => {
    if (input === "crash") throw new Error("model <unavailable> & gone");
    return input;
  },
  scores: [
    function Partial({ input }: { input: string }) {
      return input.startsWith("refund") ? 0.25 : 1;
    },
  ],
});
`;

const BROKEN = `import { Eval } from "evalrun";
const x: number = ;
`;

const SUPPORT_BASELINE = baselineFile(
  "support",
  Array.from({ length: 40 }, (_, i) => ({ row_key: `id:s${i}`, input: `ticket ${i}`, scores: { Exact: 1 } })),
);

function fixture(extra: Record<string, string> = {}) {
  return project({
    "package.json": PACKAGE,
    "evals/support.eval.ts": SUPPORT,
    "evals/router.eval.ts": ROUTER,
    "evals/__baselines__/support.jsonl": SUPPORT_BASELINE,
    ...extra,
  });
}

describe("the junit reporter", () => {
  it("fails rows below the config's gate.rowThreshold as it does rows below --row-threshold", async () => {
    const dir = fixture({
      "evalrun.config.mjs": 'export default { gate: { rowThreshold: ["router:Partial=0.5"] } };\n',
    });
    const result = await runCli(["--no-store", "--reporter", "junit", "--outfile", "junit=junit.xml"], {
      cwd: dir,
      env: { GITHUB_ACTIONS: "" },
    });
    expect(result.code).toBe(1);
    const root = checkJunit(readFileSync(path.join(dir, "junit.xml"), "utf8"));
    const failures = findAll(root as never, "failure").filter((f) => f.attrs.type === "row-threshold");
    expect(failures.map((f) => f.attrs.message)).toEqual([
      'Partial 0.25 < 0.5 (gate.rowThreshold "router:Partial=0.5" in the config)',
    ]);
  });

  it("cuts a long error message to 1,000 characters in its testcase, as the terminal does", async () => {
    const dir = project({
      "long.eval.ts": `import { Eval } from "evalrun";
Eval("long", {
  data: [{ input: 1 }, { input: 2 }],
  task: (i: number) => { if (i === 2) throw new Error("upstream said: " + "E".repeat(200_000)); return i; },
  scores: [() => 1],
});
`,
    });
    const result = await runCli(["--no-store", "--reporter", "junit", "--outfile", "junit=junit.xml"], {
      cwd: dir,
    });
    expect(result.code).toBe(1);
    const xml = readFileSync(path.join(dir, "junit.xml"), "utf8");
    expect(xml.length).toBeLessThan(10_000);
    const errors = findAll(checkJunit(xml) as never, "error");
    expect(errors[0]?.attrs.message).toMatch(
      /^Error: upstream said: E+… \(199\d{3} more characters; `evalrun export` has the whole message\)$/,
    );
  });

  it("writes a testsuite per eval and a testcase per row, with errors, row thresholds and gates, valid JUnit XML", async () => {
    const dir = fixture({ "evals/broken.eval.ts": BROKEN });
    const result = await runCli(
      ["--ci", "--no-store", "--row-threshold", "router:Partial=0.5", "--outfile", "junit=reports/junit.xml"],
      { cwd: dir, env: { DROP: "1", GITHUB_ACTIONS: "" } },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("evalrun: junit report written to reports/junit.xml");
    const xml = readFileSync(path.join(dir, "reports/junit.xml"), "utf8");
    const root = checkJunit(xml);
    const suites = new Map(root.children.map((s) => [s.attrs.name, s]));
    expect([...suites.keys()].sort()).toEqual(["evalrun", "router", "support"]);

    const files = suites.get("evalrun");
    expect(files?.attrs).toMatchObject({ tests: "1", errors: "1" });
    const compile = findAll(files as never, "error")[0];
    expect(compile?.attrs.type).toBe("COMPILE");
    expect(findAll(files as never, "testcase")[0]?.attrs.name).toBe("evals/broken.eval.ts:2:19");

    const router = suites.get("router") as NonNullable<ReturnType<typeof suites.get>>;
    const rows = router.children.filter((c) => c.name === "testcase" && c.attrs.classname === "router");
    expect(rows.map((r) => r.attrs.name)).toEqual([
      'row 0: "refund <please> & \\"thanks\\""',
      'row 1: "crash"',
      'row 2: "billing\\u0001 ✓"',
    ]);
    const [refund, crash, billing] = rows;
    expect(findAll(refund as never, "failure")[0]?.attrs).toMatchObject({
      type: "row-threshold",
      message: "Partial 0.25 < 0.5 (--row-threshold router:Partial=0.5)",
    });
    expect(findAll(crash as never, "error")[0]?.attrs).toMatchObject({
      type: "task",
      message: "Error: model <unavailable> & gone",
    });
    expect(billing?.children.map((c) => c.name)).toEqual(["system-out"]);
    expect(billing?.children[0]?.text).toMatch(/^row_key: h:[0-9a-f]{16}\nPartial: 1$/);
    // Three rows and the regression gate's baseline check (router has no baseline: it passes, with a notice).
    expect(router.attrs).toMatchObject({ tests: "4", failures: "1", errors: "1" });
    expect(router.children.find((c) => c.attrs.classname === "router.gates")?.attrs.name).toBe("baseline");
    const props = Object.fromEntries(findAll(router, "property").map((p) => [p.attrs.name, p.attrs.value]));
    expect(props).toMatchObject({ "score.Partial": "0.625", rows: "3", errors: "1" });

    const support = suites.get("support") as NonNullable<ReturnType<typeof suites.get>>;
    expect(support.children.filter((c) => c.attrs.classname === "support")).toHaveLength(40);
    const gate = support.children.find((c) => c.attrs.classname === "support.gates");
    expect(gate?.attrs.name).toBe("regression: Exact");
    const failure = findAll(gate as never, "failure")[0];
    expect(failure?.attrs.message).toMatch(
      /^Exact dropped 25\.0% \[-\d+\.\d%, -\d+\.\d%\] at 95% over 40 matched rows; 10 regressed/,
    );
    expect(failure?.text).toContain("worst rows:\n  id:s0  1.00 → 0.00");
    const supportProps = Object.fromEntries(
      findAll(support, "property").map((p) => [p.attrs.name, p.attrs.value]),
    );
    expect(supportProps["score.Exact"]).toBe("0.75");
    expect(supportProps["score.Exact.diff"]).toBe("-0.25");
    expect(supportProps["score.Exact.regressions"]).toBe("10");
    expect(supportProps.baseline).toMatch(/^evals\/__baselines__\/support\.jsonl@[0-9a-f]{8}$/);
  });

  it("rejects what the checker must reject (the checker itself is strict)", () => {
    const ok =
      '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites><testsuite name="a" tests="1" failures="0" errors="0"><testcase name="x"/></testsuite></testsuites>';
    expect(() => checkJunit(ok)).not.toThrow();
    for (const bad of [
      ok.replace('tests="1"', 'tests="2"'),
      ok.replace('name="x"', 'name="a & b"'),
      ok.replace("<testcase", '<testcase bogus="1"'),
      ok.replace("</testsuite>", ""),
      ok.replace('<testcase name="x"/>', '<testcase name="x"><properties/></testcase>'),
      ok.replace('<?xml version="1.0" encoding="UTF-8"?>\n', ""),
      ok.replace('name="x"', 'name="\u0001"'),
    ]) {
      expect(() => checkJunit(bad), bad).toThrow();
    }
  });
});

describe("the github reporter", () => {
  it("says, when asked for away from GitHub Actions, that its summary goes nowhere and what writes it instead", async () => {
    const dir = fixture({});
    const result = await runCli(["--reporter", "default,github", "--no-store"], { cwd: dir });
    expect(result.stderr).toContain(
      "the github reporter writes its summary to $GITHUB_STEP_SUMMARY, which is not set (not on GitHub Actions?)",
    );
    expect(result.stderr).toContain("--reporter markdown writes the same summary to a file");
  });

  it("appends the summary to $GITHUB_STEP_SUMMARY and annotates gate failures and compile errors with file and line", async () => {
    const dir = fixture({ "evals/broken.eval.ts": BROKEN, "summary.md": "# earlier step\n" });
    const summaryFile = path.join(dir, "summary.md");
    const result = await runCli(["--ci", "--no-store"], {
      cwd: dir,
      env: { DROP: "1", GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: summaryFile, GITHUB_WORKSPACE: dir },
    });
    expect(result.code).toBe(1);
    const annotations = result.stdout.split("\n").filter((l) => l.startsWith("::"));
    const evalLine = SUPPORT.split("\n").findIndex((l) => l.startsWith('Eval("support"')) + 1;
    expect(annotations).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^::error file=evals/support\\.eval\\.ts,line=${evalLine},title=evalrun%3A support Exact regression::Exact dropped 25\\.0%25 \\[-\\d+\\.\\d%25, `,
        ),
      ),
    );
    expect(annotations).toContainEqual(
      expect.stringMatching(
        /^::error file=evals\/broken\.eval\.ts,line=2,col=19,title=evalrun%3A COMPILE::Compile error: /,
      ),
    );
    expect(annotations).toContainEqual(
      expect.stringMatching(
        /^::error file=evals\/router\.eval\.ts,line=3,title=evalrun%3A router errors::1 of 3 results errored; the first: Error: model <unavailable> & gone$/,
      ),
    );
    const summary = readFileSync(summaryFile, "utf8");
    expect(summary.startsWith("# earlier step\n### ❌ evalrun: failed, 1 gate failed\n")).toBe(true);
    expect(summary).toMatch(
      /\| support \| Exact \| 75\.0% \[\d+\.\d%, \d+\.\d%\] \| -25\.0% \[-\d+\.\d%, -\d+\.\d%\] \| 0 \/ 10 \| ❌ regression \|/,
    );
    expect(summary).toContain("#### ❌ support › Exact: regression");
    expect(summary).toContain("| `id:s0` | 1.00 | 0.00 |");
    expect(summary).toContain("- `evals/broken.eval.ts:2` Compile error:");
    expect(existsSync(path.join(dir, ".evalrun/junit.xml"))).toBe(true);
    // A threshold naming no score is annotated once, at its Eval() line (each of GitHub's ten counts).
    const typo = await runCli(
      ["--ci", "--no-store", "--min-score", "support:Exactt=0.5", "evals/support.eval.ts"],
      {
        cwd: dir,
        env: { GITHUB_ACTIONS: "true", GITHUB_WORKSPACE: dir },
      },
    );
    expect(typo.code).toBe(2);
    const misconfigured = typo.stdout.split("\n").filter((l) => l.startsWith("::") && l.includes("Exactt"));
    expect(misconfigured).toEqual([
      expect.stringMatching(
        /^::error file=evals\/support\.eval\.ts,line=\d+,title=evalrun%3A support Exactt gate misconfigured::/,
      ),
    ]);
  });

  it("is left out of --ci off GitHub Actions", async () => {
    const dir = fixture();
    const result = await runCli(["--ci", "--no-store"], { cwd: dir, env: { GITHUB_ACTIONS: "" } });
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain("::error");
  });
});

describe("text from evals in the terminal summary", () => {
  /** Row 0's error is what a model might say; row 1's is 5,000 characters long. */
  const LOUD = `import { Eval } from "evalrun";

Eval("loud\\u0007 <x>", {
  data: [{ input: "a" }, { input: "b" }, { input: "c" }],
  task: (input: string) => {
    if (input === "a") throw new Error("model said:\\n  ::stop-commands::abc123\\n::add-mask::x ##[error]y\\n\\u001b[31mred\\u001b[0m\\rcr");
    if (input === "b") throw new Error("y".repeat(5000));
    return input;
  },
  scores: [() => ({ name: "odd\\u0002score", score: 1 })],
});
`;

  it("is indented under its row, shows control characters escaped, is cut when long, and runs no workflow command on Actions", async () => {
    const dir = project({ "package.json": PACKAGE, "evals/loud.eval.ts": LOUD });
    const result = await runCli(["--ci", "--no-store"], {
      cwd: dir,
      env: { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: path.join(dir, "summary.md") },
    });
    expect(result.code).toBe(1);
    // The runner reads a line as a command when its trimmed start is `::`, or `##[` is anywhere in it.
    const commands = result.stdout
      .split(/\r\n|\r|\n/)
      .filter((l) => l.trimStart().startsWith("::") || l.includes("##["));
    expect(commands).toEqual([
      expect.stringMatching(/^::error file=evals\/loud\.eval\.ts,line=3,title=evalrun%3A loud/),
    ]);
    const controls = [...result.stdout].filter((ch) => ch < " " && ch !== "\n");
    expect(controls).toEqual([]);
    expect(result.stdout).toContain("✘ loud\\u0007 <x>");
    expect(result.stdout).toContain("    odd\\u0002score");
    expect(result.stdout).toContain(
      [
        "    row 0 task  Error: model said:",
        "          \\u003a:stop-commands::abc123",
        "        \\u003a:add-mask::x ##\\u005berror]y",
        "        \\u001b[31mred\\u001b[0m\\u000dcr",
        "      at evals/loud.eval.ts:6:",
      ].join("\n"),
    );
    expect(result.stdout).toContain(
      `    row 1 task  Error: ${"y".repeat(993)}\n        … 4,007 more characters (--verbose prints the whole message)\n`,
    );
    const verbose = await runCli(["--no-store", "--verbose"], { cwd: dir, env: { GITHUB_ACTIONS: "" } });
    expect(verbose.stdout).toContain(`Error: ${"y".repeat(5000)}\n`);
    expect(verbose.stdout).toContain("\n          ::stop-commands::abc123\n");
  });
});

describe("several reporters at once", () => {
  it("writes json, markdown and jsonl reports to their --outfile while the terminal summary goes to stdout", async () => {
    const dir = fixture();
    const result = await runCli(
      [
        "--no-store",
        "--fail-on-regression",
        "--reporter",
        "default,json,markdown",
        "--reporter",
        "jsonl",
        "--outfile",
        "json=out/run.json",
        "--outfile",
        "markdown=out/summary.md",
        "--outfile",
        "jsonl=out/summaries.jsonl",
      ],
      { cwd: dir, env: { DROP: "1" } },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✘ FAIL\s+regression\s+Exact dropped 25\.0%/);
    const doc = JSON.parse(readFileSync(path.join(dir, "out/run.json"), "utf8"));
    expect(doc).toMatchObject({ passed: false, exit_code: 1 });
    expect(doc.evals.map((e: { name: string }) => e.name).sort()).toEqual(["router", "support"]);
    const support = doc.evals.find((e: { name: string }) => e.name === "support");
    expect(support.gate.checks[0]).toMatchObject({ kind: "regression", score: "Exact", status: "fail" });
    expect(support.stats.scores.Exact.change.matched).toBe(40);
    expect(readFileSync(path.join(dir, "out/summary.md"), "utf8")).toContain(
      "### ❌ evalrun: failed, 1 gate failed",
    );
    const lines = jsonLines(readFileSync(path.join(dir, "out/summaries.jsonl"), "utf8"));
    expect(lines.map((l) => l.project_name).sort()).toEqual(["router", "support"]);
  });

  it("gives stdout to the first machine-readable report when there is no terminal summary, and says why a run failed on stderr", async () => {
    const dir = fixture();
    const result = await runCli(["--no-store", "--reporter", "json,junit"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).evals).toHaveLength(2);
    expect(result.stderr).toContain("evalrun: junit report written to .evalrun/junit.xml");
    expect(result.stderr).toContain("evalrun: failed (exit 1)\n  · router: 1 of 3 results errored");
    checkJunit(readFileSync(path.join(dir, ".evalrun/junit.xml"), "utf8"));
    expect(readFileSync(path.join(dir, ".evalrun/.gitignore"), "utf8")).toBe("*\n");
  });

  it("keeps --jsonl: one summary per eval per line on stdout and nothing else", async () => {
    const dir = fixture();
    const result = await runCli(["--no-store", "--jsonl"], { cwd: dir });
    expect(
      jsonLines(result.stdout)
        .map((l) => l.project_name)
        .sort(),
    ).toEqual(["router", "support"]);
    expect(result.stderr).toBe("");

    // --jsonl owns stdout beside other reporters, and with --ci keeps its JUnit report.
    for (const flags of [["--reporter", "junit"], ["--ci"]]) {
      const both = await runCli(["--no-store", "--jsonl", ...flags], { cwd: dir });
      expect(jsonLines(both.stdout)).toHaveLength(2);
      expect(both.stderr).toContain("evalrun: junit report written to .evalrun/junit.xml");
      checkJunit(readFileSync(path.join(dir, ".evalrun/junit.xml"), "utf8"));
    }
  });

  it("refuses an unknown reporter, two reports on stdout, and an --outfile it cannot write", async () => {
    const dir = fixture();
    writeFileSync(path.join(dir, "file.txt"), "not a directory");
    for (const [args, text] of [
      [["--reporter", "xml"], '--reporter "xml" is not a reporter.'],
      [["--reporter", "junt"], 'Did you mean "junit"?'],
      [
        ["--reporter", "default,json", "--outfile", "json=-"],
        "Reporters default and json would both write to stdout.",
      ],
      [
        ["--outfile", "json=out.json"],
        '--outfile json=out.json: "json" is not among this run\'s reporters (default).',
      ],
      [
        ["--reporter", "junit", "--outfile", "junit=file.txt/junit.xml"],
        "--outfile junit=file.txt/junit.xml: cannot write file.txt/junit.xml (ENOTDIR",
      ],
      // Node 20's recursive mkdir loops forever here (a parent that refuses new entries with ENOENT).
      [
        ["--reporter", "junit", "--outfile", "junit=/proc/evalrun-nope/junit.xml"],
        "--outfile junit=/proc/evalrun-nope/junit.xml: cannot write /proc/evalrun-nope/junit.xml (ENOENT",
      ],
    ] as const) {
      const result = await runCli([...args], { cwd: dir });
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toContain(text);
    }
  });

  it("says a report it could not write after the run (a full disk) with the results kept, and still writes the others", async () => {
    const dir = fixture();
    const result = await runCli(
      [
        "--store",
        "s.db",
        "--reporter",
        "default,junit,json",
        "--outfile",
        "junit=/dev/full",
        "--outfile",
        "json=run.json",
      ],
      { cwd: dir },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("[REPORT] Could not write the report /dev/full (ENOSPC");
    expect(result.stderr).not.toContain("internal error");
    expect(JSON.parse(readFileSync(path.join(dir, "run.json"), "utf8"))).toBeTruthy();
    expect(storedRows(path.join(dir, "s.db")).length).toBeGreaterThan(0);
  });

  it("keeps stdout for the machine-readable report alone: eval code's logs go to stderr, in either mode", async () => {
    const dir = project({
      "logs.eval.ts": `import { Eval } from "evalrun";
console.log("top-level log");
Eval("logs", {
  data: [{ input: 1 }, { input: 2 }],
  task: (i: number) => { console.log("task log", i); process.stdout.write("raw write\\n"); return i; },
  scores: [() => 1],
});
`,
    });
    for (const workers of ["0", "2"]) {
      const jsonl = await runCli(["--jsonl", "--no-store", "--workers", workers], { cwd: dir });
      expect(jsonl.code).toBe(0);
      expect(jsonLines(jsonl.stdout).map((s) => s.project_name)).toEqual(["logs"]);
      // Percentiles to the microsecond, without a clock difference's float noise.
      const metrics = (jsonLines(jsonl.stdout)[0] as { metrics: Record<string, { metric: number }> }).metrics;
      for (const name of ["duration_p50", "duration_p95"])
        expect(String(metrics[name]?.metric)).toMatch(/^\d+(\.\d{1,6})?(e-\d+)?$/);
      expect(jsonl.stdout.trim().split("\n")).toHaveLength(1);
      expect(jsonl.stderr).toContain("top-level log");
      expect(jsonl.stderr).toContain("task log 2");
      const json = await runCli(["--reporter", "json", "--no-store", "--workers", workers], { cwd: dir });
      expect(JSON.parse(json.stdout)).toBeTruthy();
    }
    const listed = await runCli(["--list", "--jsonl"], { cwd: dir });
    expect(jsonLines(listed.stdout).map((e) => e.name)).toEqual(["logs"]);
    expect(listed.stderr).toContain("top-level log");
    // With the terminal summary on stdout, logs stay where the user put them.
    const plain = await runCli(["--no-store"], { cwd: dir });
    expect(plain.stdout).toContain("task log 1");
  });

  it("leaves no empty report behind when the run is refused before it starts", async () => {
    const dir = fixture();
    const result = await runCli(
      [
        "--no-store",
        "--baseline",
        "nosuch",
        "--reporter",
        "default,json",
        "--outfile",
        "json=reports/run.json",
      ],
      { cwd: dir },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('"nosuch"');
    expect(existsSync(path.join(dir, "reports", "run.json"))).toBe(false);
  });
});
