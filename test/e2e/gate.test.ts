import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { baselineFile } from "../helpers/baseline.js";
import { project, runCli } from "../helpers/cli.js";
import { experiments } from "../helpers/store.js";

const PACKAGE = JSON.stringify({ name: "app", private: true, type: "module" });

// What these tests check must not depend on the CI running them: a store named by the environment, or GitHub
// Actions' variables (which would add the github reporter to --ci and append to the real job summary).
beforeAll(() => {
  for (const name of ["EVALRUN_STORE", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_WORKSPACE"])
    delete process.env[name];
});

/**
 * 200 questions; Factuality is right on 82 of every 100 (0.82). MODE=drop gets 8 of every 100 of those wrong
 * (0.74), MODE=better 5 of the wrong ones right (0.87), MODE=noisy scores each row around a fixed per-row level with
 * seeded noise (NOISE_SEED), so its mean does not move. MIN sets `thresholds.Factuality`.
 */
const SUPPORT = `import { Eval } from "evalrun";
const mode = process.env.MODE ?? "same";
const seed = Number(process.env.NOISE_SEED ?? "0");
// Uniform in [-0.5, 0.5), independent per (row, seed): murmur3's finaliser over both.
function noise(i: number): number {
  let h = (Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(seed + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 32 - 0.5;
}
Eval("support", {
  data: Array.from({ length: 200 }, (_, i) => ({ id: "q" + i, input: "question " + i })),
  task: (input: string) => "answer to " + input,
  scores: [
    function Factuality({ input }: { input: string }) {
      const i = Number(input.split(" ")[1]);
      const k = i % 100;
      if (mode === "noisy") return Math.min(1, Math.max(0, 0.3 + 0.4 * ((i * 37) % 100) / 100 + noise(i) * 0.4));
      if (mode === "drop" && k >= 74 && k < 82) return 0;
      if (mode === "better" && k >= 82 && k < 87) return 1;
      return k < 82 ? 1 : 0;
    },
  ],
  ...(process.env.MIN ? { thresholds: { Factuality: Number(process.env.MIN) } } : {}),
});
`;

/** The committed baseline of SUPPORT in its default mode: Factuality 0.82. */
const SUPPORT_BASELINE = baselineFile(
  "support",
  Array.from({ length: 200 }, (_, i) => ({
    row_key: `id:q${i}`,
    input: `question ${i}`,
    output: `answer to question ${i}`,
    scores: { Factuality: i % 100 < 82 ? 1 : 0 },
  })),
);

const withBaseline = () =>
  project({
    "package.json": PACKAGE,
    "evals/support.eval.ts": SUPPORT,
    "evals/__baselines__/support.jsonl": SUPPORT_BASELINE,
  });

describe("the regression gate", () => {
  it("fails a real drop with exit 1: the eval, the score, the drop with its interval, the rows and the worst rows", async () => {
    const dir = withBaseline();
    const result = await runCli(["--ci", "--no-store"], {
      cwd: dir,
      env: { MODE: "drop", GITHUB_ACTIONS: "" },
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("baseline    evals/__baselines__/support.jsonl@");
    expect(result.stdout).toMatch(
      /Factuality\s+74\.0%\s+\(-8\.0%\)\s+0 improvements\s+16 regressions\s+200 scored/,
    );
    const failure =
      /✘ FAIL\s+regression\s+(Factuality dropped 8\.0% \[(-\d+\.\d)%, (-\d+\.\d)%\] at 95% over 200 matched rows; 16 regressed, 0 improved)/.exec(
        result.stdout,
      );
    expect(failure, result.stdout).not.toBeNull();
    const [low, high] = [Number(failure?.[2]), Number(failure?.[3])];
    expect(low).toBeLessThan(-8);
    expect(high).toBeGreaterThan(-8);
    expect(high).toBeLessThan(0);
    const worst = result.stdout
      .split("\n")
      .filter((l) => /^\s+id:q\d+\s+1\.00 → 0\.00\s+input "question \d+"/.test(l));
    expect(worst).toHaveLength(5);
    expect(result.stdout).toContain(`· support: ${failure?.[1]}`);
    expect(result.stdout).toMatch(/^Failed:/m);
  });

  it("passes a noisy scorer whose mean did not move, run after run, with the same verdict for the same data", async () => {
    const dir = project({ "package.json": PACKAGE, "evals/support.eval.ts": SUPPORT });
    // On main: a run, saved as the committed baseline.
    expect(
      (await runCli(["--no-progress"], { cwd: dir, env: { MODE: "noisy", NOISE_SEED: "0" } })).code,
    ).toBe(0);
    const save = await runCli(["baseline", "save"], { cwd: dir });
    expect(save.code).toBe(0);
    expect(save.stdout).toContain("saved evals/__baselines__/support.jsonl: 200 rows of support");
    const changes: string[] = [];
    for (const seed of ["1", "2", "3", "1"]) {
      const run = await runCli(["--ci", "--reporter", "json"], {
        cwd: dir,
        env: { MODE: "noisy", NOISE_SEED: seed, GITHUB_ACTIONS: "" },
      });
      const doc = JSON.parse(run.stdout);
      expect(run.code, run.stderr).toBe(0);
      const check = doc.evals[0].gate.checks.find((c: { kind: string }) => c.kind === "regression");
      expect(check.status).toBe("pass");
      expect(check.message).toMatch(/over 200 matched rows; \d+ regressed, \d+ improved: within noise$/);
      changes.push(JSON.stringify(doc.evals[0].stats.scores.Factuality.change));
    }
    // Seed 1 twice: the same rows give the same interval and verdict.
    expect(changes[3]).toBe(changes[0]);
    expect(changes[1]).not.toBe(changes[0]);
  });

  it("passes an improvement", async () => {
    const dir = withBaseline();
    const result = await runCli(["--fail-on-regression", "--no-store"], {
      cwd: dir,
      env: { MODE: "better" },
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /✔ PASS\s+regression\s+Factuality \+5\.0% \[\+\d+\.\d%, \+\d+\.\d%\] at 95% over 200 matched rows; 0 regressed, 10 improved: improved/,
    );
    expect(result.stdout).toMatch(/^Done:/m);
  });

  it("compares with the committed baseline on every run, and --baseline overrides it", async () => {
    const dir = withBaseline();
    const first = await runCli(["--no-progress"], { cwd: dir, env: { MODE: "better" } });
    expect(first.stdout).toMatch(/Factuality\s+87\.0%\s+\(\+5\.0%\)\s+10 improvements\s+0 regressions/);
    const named = /experiment\s+(\S+)/.exec(first.stdout)?.[1] as string;
    const overridden = await runCli(["--fail-on-regression", "--baseline", named], {
      cwd: dir,
      env: { MODE: "drop" },
    });
    expect(overridden.code).toBe(1);
    expect(overridden.stdout).toContain(`baseline    ${named}`);
    expect(overridden.stdout).toMatch(/Factuality dropped 13\.0%/);
  });

  it("fails a score of the baseline that could not be compared: renamed, null on every row, or no row key left", async () => {
    // The edits that would otherwise switch the gate off while the score went from 100% to 0%.
    const dir = project({
      "package.json": PACKAGE,
      "evals/shape.eval.ts": `import { Eval } from "evalrun";
const shift = Number(process.env.SHIFT ?? 0);
Eval("shape", {
  data: Array.from({ length: 20 }, (_, i) => ({ input: shift + i })),
  task: (i: number) => {
    if (process.env.ALLERR || (process.env.ERR && i < 5)) throw new Error("the model is down");
    return i;
  },
  scores: [() => ({ name: process.env.NAME ?? "Acc", score: process.env.NULL ? null : process.env.LOW ? 0 : 1 })],
});
`,
    });
    expect((await runCli(["--no-progress"], { cwd: dir })).code).toBe(0);
    expect((await runCli(["baseline", "save"], { cwd: dir })).code).toBe(0);
    const cases: Array<[Record<string, string>, string]> = [
      [{ NAME: "Accuracy", LOW: "1" }, "no scorer of this run produced it (renamed or removed?)"],
      [{ NULL: "1" }, "this run scored no row of it (the scorer returned null or errored on every row)"],
      [{ SHIFT: "1000", LOW: "1" }, "no row of this run has a row key of the baseline"],
      [{ ALLERR: "1" }, "every row of this run errored, so none was scored"],
    ];
    for (const [env, why] of cases) {
      const run = await runCli(["--ci", "--no-progress", "--no-store"], { cwd: dir, env });
      expect(run.code, JSON.stringify(env)).toBe(1);
      expect(run.stdout).toContain(
        `✘ FAIL  regression  Acc is in the baseline but could not be compared: ${why}`,
      );
      // Errors are to fix; the other causes may be a change meant, to accept.
      expect(run.stdout).toContain(
        env.ALLERR
          ? "none was scored; fix what the errors say"
          : "save a new baseline (`evalrun baseline save`)",
      );
      if (env.ALLERR) {
        // On GitHub, the errors' annotation quotes the first, which the PR page then shows.
        const github = await runCli(["--ci", "--no-progress", "--no-store", "--reporter", "github"], {
          cwd: dir,
          env: { ...env, GITHUB_ACTIONS: "true" },
        });
        expect(github.stdout).toMatch(
          /::error [^\n]*title=evalrun%3A shape errors::20 of 20 results errored; the first: Error: the model is down/,
        );
      }
      // Not "(new)": the baseline has it.
      if (env.NULL) expect(run.stdout).toMatch(/Acc\s+–\s+\(was 100\.0%\)/);
    }
    const none = await runCli(["--ci", "--no-progress", "--no-store", "--filter", "metadata.lang=en"], {
      cwd: dir,
    });
    expect(none.stdout).toContain(
      "could not be compared: this run has no rows (did a --filter, --first or the data select none?)",
    );
    // Unchanged, it passes.
    const same = await runCli(["--ci", "--no-progress", "--no-store"], { cwd: dir });
    expect(same.code).toBe(0);
    // Rows that errored are not compared, and it is said.
    const errored = await runCli(["--ci", "--no-progress", "--no-store", "--max-error-rate", "0.5"], {
      cwd: dir,
      env: { ERR: "1" },
    });
    expect(errored.code).toBe(0);
    expect(errored.stdout).toContain("5 results errored in this run: without scores, they are not compared");
    // Tolerated, the errors do not fail the eval: no ✘, and on GitHub a warning, not a red error.
    expect(errored.stdout).toMatch(/^✔ shape/m);
    const github = await runCli(
      ["--ci", "--no-progress", "--no-store", "--max-error-rate", "0.5", "--reporter", "github"],
      { cwd: dir, env: { ERR: "1", GITHUB_ACTIONS: "true" } },
    );
    expect(github.stdout).toMatch(
      /^::warning file=[^:]*,title=evalrun%3A shape errors::5 of \d+ results errored \(within --max-error-rate\); the first: Error: the model is down$/m,
    );
    expect(github.stdout).not.toContain("::error");
  });

  it("fails a --min-score naming a scorer whose scores go by another name, rather than checking nothing", async () => {
    const dir = project({
      "package.json": PACKAGE,
      "named.eval.ts": `import { Eval, Levenshtein } from "evalrun";
function MentionsTeam({ output }: { output: string }) { return { name: "team_mentioned", score: output.includes("team") ? 1 : 0 }; }
Eval("named", {
  data: [{ input: "billing team", expected: "billing team" }, { input: "x", expected: "y" }],
  task: (x: string) => x,
  scores: [MentionsTeam, (args) => Levenshtein(args)],
});
`,
    });
    for (const rule of ["MentionsTeam=0.9", "scorer_1=0.99"]) {
      const result = await runCli(["--no-store", "--no-progress", "--min-score", rule], { cwd: dir });
      expect(result.code, rule).toBe(1);
      expect(result.stdout).toContain(`cannot reach its minimum`);
      expect(result.stdout).toContain(`(--min-score ${rule})`);
    }
  });

  it("applies a --baseline file to its own eval only: the others keep their committed baselines", async () => {
    const other = SUPPORT.replace('Eval("support"', 'Eval("other"');
    const dir = project({
      "package.json": PACKAGE,
      "evals/support.eval.ts": SUPPORT,
      "evals/other.eval.ts": other,
      "evals/__baselines__/support.jsonl": SUPPORT_BASELINE,
      "evals/__baselines__/other.jsonl": SUPPORT_BASELINE.replace('"support"', '"other"'),
      "exported/support.jsonl": SUPPORT_BASELINE,
    });
    // Both evals drop: the other one's committed baseline must still catch it.
    const run = await runCli(
      ["--ci", "--no-progress", "--no-store", "--baseline", "exported/support.jsonl"],
      {
        cwd: dir,
        env: { MODE: "drop" },
      },
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/baseline\s+exported\/support\.jsonl/);
    expect(run.stdout).toMatch(/baseline\s+evals\/__baselines__\/other\.jsonl/);
    expect(run.stdout).toContain("· other: Factuality dropped 8.0%");
    expect(run.stdout).toContain("· support: Factuality dropped 8.0%");
    // A file of an eval this run did not run (renamed? failed to load?) is said, though the other has its own.
    const unused = await runCli(
      ["--ci", "--no-progress", "--no-store", "--baseline", "exported/support.jsonl", "evals/other.eval.ts"],
      { cwd: dir },
    );
    expect(unused.code).toBe(0);
    expect(unused.stdout).toContain(
      '· --baseline exported/support.jsonl: it holds an experiment of eval "support", which this run did not run (renamed, or its file did not load?), so nothing was compared with it',
    );
  });

  it("points out a committed baseline left behind when its eval file moved or the eval was renamed", async () => {
    const dir = project({
      "package.json": PACKAGE,
      "evals/sub/support.eval.ts": SUPPORT,
      "evals/__baselines__/support.jsonl": SUPPORT_BASELINE,
      "evals/__baselines__/kept.jsonl": SUPPORT_BASELINE.replace('"support"', '"kept"'),
      "evals/kept.eval.ts": SUPPORT.replace('Eval("support"', 'Eval("kept"'),
    });
    const run = await runCli(["--ci", "--no-progress", "--no-store"], { cwd: dir, env: { MODE: "drop" } });
    expect(run.stdout).toContain(
      "· evals/__baselines__/support.jsonl is a committed baseline that no eval of this run uses (an eval renamed, or its file moved?), so nothing is compared with it",
    );
    expect(run.stdout).not.toContain("kept.jsonl is a committed baseline");
    // Files named on the command line are a part of the project: the others' baselines are not orphans.
    const some = await runCli(["--ci", "--no-progress", "--no-store", "evals/kept.eval.ts"], { cwd: dir });
    expect(some.stdout).not.toContain("is a committed baseline that no eval");
  });

  it("reads a committed baseline saved with a byte-order mark (as Windows editors save files)", async () => {
    const dir = project({
      "package.json": PACKAGE,
      "evals/support.eval.ts": SUPPORT,
      "evals/__baselines__/support.jsonl": `\uFEFF${SUPPORT_BASELINE}`,
    });
    const run = await runCli(["--ci", "--no-progress", "--no-store"], { cwd: dir, env: { MODE: "drop" } });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("· support: Factuality dropped 8.0%");
  });

  it("never takes a run that gave no rows, or only errors, as the default baseline", async () => {
    // An empty export, a query that returned nothing, a key that was missing: each such run is stored as complete.
    const EMPTY = `import { Eval } from "evalrun";
const mode = process.env.FAQ_MODE ?? "good";
Eval("faq", {
  data: mode === "empty" ? [] : [{ input: "a", expected: "a" }, { input: "b", expected: "b" }],
  task: (input: string) => {
    if (mode === "broken") throw new Error("no API key");
    return mode === "wrong" ? "nope" : input;
  },
  scores: [
    function Eq({ output, expected }: { output: string; expected?: string }) { return output === expected ? 1 : 0; },
    function Judge() { if (mode !== "good") throw new Error("judge: no API key"); return 1; },
  ],
});
`;
    const dir = project({ "package.json": PACKAGE, "faq.eval.ts": EMPTY });
    expect((await runCli([], { cwd: dir })).code).toBe(0);
    const good = experiments(path.join(dir, ".evalrun", "evalrun.db")).find((e) => e.project === "faq");
    const empty = await runCli([], { cwd: dir, env: { FAQ_MODE: "empty" } });
    expect(empty.stdout).toContain(
      "rows        0 · 0 errors · its data gave no rows (no baseline for later runs)",
    );
    // A filter that kept none is not the data giving none.
    const filtered = await runCli(["--filter", "input=^zzz"], { cwd: dir });
    expect(filtered.stdout).toContain("rows        0 · 0 errors · --filter kept none of its 2 rows\n");
    await runCli([], { cwd: dir, env: { FAQ_MODE: "broken" } });
    // Nor the one `baseline save` writes (here where runs do not look): the empty and broken runs are passed over.
    const saved = await runCli(["baseline", "save", "--baseline-dir", "saved"], { cwd: dir });
    expect(saved.stdout).toContain(`from ${good?.name}`);
    expect(saved.stdout).toContain("2 newer runs had no rows, or only errors and no score: not saved.");
    const wrong = await runCli(["--fail-on-regression"], { cwd: dir, env: { FAQ_MODE: "wrong" } });
    expect(wrong.stdout).toContain(`baseline    ${good?.name} · 2 rows matched`);
    expect(wrong.stdout).toMatch(/Eq\s+0\.0%\s+\(-100\.0%\)/);
    expect(wrong.code).toBe(1);
    // One scorer erring on every row (its judge's key missing) leaves the other's scores: still a baseline.
    await runCli([], { cwd: dir, env: { FAQ_MODE: "judgeless" } });
    const judgeless = experiments(path.join(dir, ".evalrun", "evalrun.db")).at(-1);
    const next = await runCli([], { cwd: dir, env: { FAQ_MODE: "wrong" } });
    expect(next.stdout).toContain(`baseline    ${judgeless?.name} · 2 rows matched`);
  });

  it("says once that gates were not evaluated when the data failed, instead of a FAIL per score", async () => {
    const dir = project({ "package.json": PACKAGE, "evals/support.eval.ts": SUPPORT });
    await runCli(["--no-progress"], { cwd: dir });
    writeFileSync(
      path.join(dir, "evals", "support.eval.ts"),
      SUPPORT.replace(
        "data: Array.from(",
        'data: () => { throw new Error("the dataset is gone"); }, _data: Array.from(',
      ),
    );
    const run = await runCli(["--no-progress", "--fail-on-regression", "--min-score", "0.5"], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("· gates not evaluated: the eval stopped before any row (BAD_DATA)");
    expect(run.stdout).not.toContain("FAIL");
    expect(run.stdout).toContain("the dataset is gone");
    // Without gates, nothing about them.
    const plain = await runCli(["--no-progress"], { cwd: dir });
    expect(plain.stdout).toContain("the dataset is gone");
    expect(plain.stdout).not.toContain("gates");
  });

  it("says there is no baseline and passes, or fails with --require-baseline", async () => {
    const dir = project({ "package.json": PACKAGE, "evals/support.eval.ts": SUPPORT });
    const passed = await runCli(["--fail-on-regression", "--no-store"], { cwd: dir });
    expect(passed.code).toBe(0);
    expect(passed.stdout).toContain(
      "✔ PASS  baseline    no baseline to compare with: the regression gate passes (--require-baseline fails instead)",
    );
    const required = await runCli(["--fail-on-regression", "--require-baseline", "--no-store"], { cwd: dir });
    expect(required.code).toBe(1);
    expect(required.stdout).toContain("· support: no baseline to compare with (--require-baseline)");
    // On its own too, as its help says.
    const alone = await runCli(["--require-baseline", "--no-store"], { cwd: dir });
    expect(alone.code).toBe(1);
    expect(alone.stdout).toContain("· support: no baseline to compare with (--require-baseline)");
  });
});

describe("the numbers on a score's line", () => {
  const TRIALS = `import { Eval } from "evalrun";
const shift = Number(process.env.SHIFT ?? "0");
// Row r0 runs 5 trials, the others 1: 5 of 14 results pass where 1 of 10 rows does.
Eval("trials", {
  data: Array.from({ length: 10 }, (_, i) => ({ input: "r" + i, trialCount: i === 0 ? 5 : 1 })),
  task: (input: string) => input,
  scores: [function A({ input }: { input: string }) { return input === "r0" || Number(input.slice(1)) < shift ? 1 : 0; }],
});
`;

  it("does not colour a subset run's means' change against the whole baseline red (its rows did not change)", async () => {
    const dir = project({
      "package.json": PACKAGE,
      "subset.eval.ts": `import { Eval } from "evalrun";
Eval("subset", {
  data: Array.from({ length: 10 }, (_, i) => ({ input: i })),
  task: (i: number) => i,
  scores: [function A({ input }: { input: number }) { return input < 5 ? 0 : 1; }],
});
`,
    });
    await runCli(["--no-progress"], { cwd: dir });
    const colours = { FORCE_COLOR: "1", NO_COLOR: undefined };
    const first = await runCli(["--no-progress", "--first", "5"], { cwd: dir, env: colours });
    // 0% of the first 5 rows against 50% of all 10: the means' -50% is shown, not in red; the rows' change is +0.0%.
    expect(first.stdout).toContain("(-50.0%)");
    expect(first.stdout).not.toContain("\u001b[31m(-50.0%)");
    expect(first.stdout).toContain("+0.0%");
  });

  it("says beside a passing gate when a score's mean moved on rows scored on one side only", async () => {
    // Per-label precision: null where the label was not predicted. The change predicts "x" for 10 more rows, all
    // wrong: 100% -> 50%, while the 10 rows scored on both sides did not move.
    const dir = project({
      "package.json": PACKAGE,
      "labels.eval.ts": `import { Eval } from "evalrun";
const wider = process.env.WIDER === "1";
Eval("labels", {
  data: Array.from({ length: 20 }, (_, i) => ({ input: i, expected: i < 10 ? "x" : "y" })),
  task: (i: number) => (i < 10 || wider ? "x" : "y"),
  scores: [({ output, expected }: { output: string; expected: string }) => ({ name: "precision:x", score: output === "x" ? expected === "x" : null })],
});
`,
    });
    await runCli(["--no-progress"], { cwd: dir });
    const summaryFile = path.join(dir, "summary.md");
    const wider = await runCli(
      [
        "--no-progress",
        "--fail-on-regression",
        "--reporter",
        "default,markdown",
        "--outfile",
        `markdown=${summaryFile}`,
      ],
      { cwd: dir, env: { WIDER: "1" } },
    );
    expect(wider.stdout).toMatch(/precision:x\s+50\.0%\s+\(-50\.0%\)/);
    expect(wider.stdout).toContain(
      "over 10 matched rows; 0 regressed, 0 improved: within noise; its mean moved -50.0%: rows scored on one side only, and rows sharing a key, count in the mean but not in the gate",
    );
    expect(readFileSync(summaryFile, "utf8")).toContain("+0.0% [+0.0%, +0.0%] over 10 matched (mean -50.0%)");
  });

  it("gives each mean an interval that brackets it, also when rows ran different numbers of trials", async () => {
    const dir = project({ "package.json": PACKAGE, "trials.eval.ts": TRIALS });
    const result = await runCli(["--no-progress"], { cwd: dir, env: { NO_COLOR: "1" } });
    expect(result.code).toBe(0);
    const line = /A\s+35\.7%\s+14 scored\s+95% CI \[(\d+\.\d)%, (\d+\.\d)%\]/.exec(result.stdout);
    expect(line, result.stdout).not.toBeNull();
    expect(Number(line?.[1])).toBeLessThanOrEqual(35.7);
    expect(Number(line?.[2])).toBeGreaterThanOrEqual(35.7);
  });

  it("labels the matched rows' change when it differs from the change of the means (a subset run)", async () => {
    const dir = project({ "package.json": PACKAGE, "trials.eval.ts": TRIALS });
    expect((await runCli(["--no-progress"], { cwd: dir })).code).toBe(0);
    // Rows r1 and r2 now pass; the first 3 rows are r0 (5 trials), r1 and r2.
    const subset = await runCli(["--no-progress", "--first", "3"], {
      cwd: dir,
      env: { NO_COLOR: "1", SHIFT: "3" },
    });
    expect(subset.code).toBe(0);
    // Means: 7/7 against 5/14; matched rows: r0 unchanged, r1 and r2 up by 1, so +66.7% over 3 rows.
    expect(subset.stdout).toMatch(/A\s+100\.0%\s+\(\+64\.3%\)/);
    expect(subset.stdout).toMatch(/change \+66\.7% \[[^\]]+\] over 3 matched rows/);
    // Where the two agree (the same run again), the line keeps its short form.
    const env = { NO_COLOR: "1", SHIFT: "3" };
    const full = await runCli(["--no-progress"], { cwd: dir, env });
    expect(full.stdout).toMatch(
      /A\s+50\.0%\s+\(\+14\.3%\).*change \+20\.0% \[[^\]]+\] over 10 matched rows$/m,
    );
    const again = await runCli(["--no-progress"], { cwd: dir, env });
    expect(again.stdout).toMatch(/A\s+50\.0%\s+\(\+0\.0%\).*change \[\+0\.0%, \+0\.0%\]$/m);
  });
});

describe("the gate in the config", () => {
  it("takes a team's gate policy from evalrun.config.ts, flags still winning", async () => {
    const dir = project({
      "package.json": PACKAGE,
      "evals/support.eval.ts": SUPPORT,
      "evals/__baselines__/support.jsonl": SUPPORT_BASELINE,
      "evalrun.config.ts": `export default { gate: { failOnRegression: true, maxDrop: 0.1, minScore: ["Factuality=0.8"] } };`,
    });
    // No --ci: the config asks for the regression gate; an 8% drop is within its max drop, the threshold is not.
    const run = await runCli(["--no-progress", "--no-store"], { cwd: dir, env: { MODE: "drop" } });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'Factuality 74.0% is below its minimum 80.0% (gate.minScore "Factuality=0.8" in the config)',
    );
    expect(run.stdout).toMatch(/✔ PASS\s+regression\s+Factuality -8\.0% .*within --max-drop 10\.0%/);
    const flags = await runCli(
      ["--no-progress", "--no-store", "--max-drop", "0", "--min-score", "Factuality=0.7"],
      {
        cwd: dir,
        env: { MODE: "drop" },
      },
    );
    expect(flags.stdout).toContain("✔ PASS  threshold   Factuality 74.0% >= 70.0%");
    expect(flags.stdout).toMatch(/✘ FAIL\s+regression\s+Factuality dropped 8\.0%/);
  });

  it("refuses a malformed gate in the config before running anything", async () => {
    const dir = project({
      "package.json": PACKAGE,
      "evals/support.eval.ts": SUPPORT,
      "evalrun.config.ts": `export default { gate: { minScore: ["Factuality=high"] } };`,
    });
    const run = await runCli(["--no-progress", "--no-store"], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("gate.minScore");
    expect(run.stdout).toBe("");
    const typo = project({
      ...{ "package.json": PACKAGE, "evals/support.eval.ts": SUPPORT },
      "evalrun.config.ts": "export default { gate: { maxdrop: 0.1 } };",
    });
    const typoRun = await runCli(["--no-progress", "--no-store"], { cwd: typo });
    expect(typoRun.code).toBe(2);
    expect(typoRun.stderr).toContain("maxdrop");
  });
});

describe("thresholds", () => {
  it("fails a score below its threshold in Eval() and names the rule", async () => {
    const dir = project({ "package.json": PACKAGE, "evals/support.eval.ts": SUPPORT });
    const result = await runCli(["--no-store"], { cwd: dir, env: { MIN: "0.9" } });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      '✘ FAIL  threshold   Factuality 82.0% is below its minimum 90.0% (thresholds.Factuality in Eval("support"))',
    );
    const met = await runCli(["--no-store"], { cwd: dir, env: { MIN: "0.82" } });
    expect(met.code).toBe(0);
    expect(met.stdout).toContain("✔ PASS  threshold   Factuality 82.0% >= 82.0%");
  });

  it("--min-score sets or overrides thresholds, for every eval or for one", async () => {
    const dir = project({ "package.json": PACKAGE, "evals/support.eval.ts": SUPPORT });
    const looser = await runCli(["--no-store", "--min-score", "support:Factuality=0.8"], {
      cwd: dir,
      env: { MIN: "0.9" },
    });
    expect(looser.code).toBe(0);
    const stricter = await runCli(["--no-store", "--min-score", "Factuality=85%"], { cwd: dir });
    expect(stricter.code).toBe(1);
    expect(stricter.stdout).toContain(
      "Factuality 82.0% is below its minimum 85.0% (--min-score Factuality=85%)",
    );
  });

  it("refuses a threshold on a score no scorer produces (exit 2, with the likely name)", async () => {
    const dir = project({ "package.json": PACKAGE, "evals/support.eval.ts": SUPPORT });
    const result = await runCli(["--no-store", "--min-score", "support:Factualty=0.8"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      '✘ [USAGE] --min-score support:Factualty=0.8 names the score "Factualty", which no scorer of eval "support" produced (its scores: Factuality). Did you mean "Factuality"?',
    );
    expect(result.stderr).toContain("hint: Use a score name from the summary above");
  });
});

describe("bad gate input", () => {
  const dir = () => project({ "package.json": PACKAGE, "evals/support.eval.ts": SUPPORT });

  it("refuses malformed --min-score, --shard and --max-drop values before running anything", async () => {
    const cwd = dir();
    for (const [args, text] of [
      [
        ["--min-score", "Factuality"],
        `argument 'Factuality' is invalid. "Factuality": the value "Factuality" is not a number between 0 and 1`,
      ],
      [["--min-score", "Factuality=1.2"], `the value "1.2" is not a number between 0 and 1`],
      [["--shard", "3/2"], `"3/2": I must be between 1 and N`],
      [["--shard", "0/4"], `"0/4": I must be between 1 and N`],
      [["--shard", "two"], `"two" is not of the form I/N`],
      [["--max-drop", "-1"], "expected a drop between 0 and 1"],
      [
        ["--min-score", "nope:Factuality=0.5"],
        `names the eval "nope", which this run does not include (its evals: support)`,
      ],
    ] as const) {
      const result = await runCli([...args], { cwd });
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toContain(text);
      expect(result.stdout).toBe("");
    }
  });

  it("refuses a baseline file of another eval, and one with a malformed line, naming the file and line", async () => {
    const other = project({
      "package.json": PACKAGE,
      "evals/support.eval.ts": SUPPORT,
      "evals/__baselines__/support.jsonl": baselineFile("router", [{ input: "x", scores: { a: 1 } }]),
    });
    const wrongEval = await runCli(["--ci"], { cwd: other });
    expect(wrongEval.code).toBe(2);
    expect(wrongEval.stderr).toContain(
      'The baseline file evals/__baselines__/support.jsonl holds eval "router", not "support", whose baseline it is named as.',
    );
    const lines = SUPPORT_BASELINE.split("\n");
    lines[3] = '{"row_key":"id:q2","input":"question 2","scores":{"Factuality":"high"}}';
    const malformed = project({
      "package.json": PACKAGE,
      "evals/support.eval.ts": SUPPORT,
      "evals/__baselines__/support.jsonl": lines.join("\n"),
    });
    const bad = await runCli(["--ci"], { cwd: malformed });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      'evals/__baselines__/support.jsonl:4: score "Factuality" is a string ("high"); scores are numbers in [0, 1] or null. Nothing was imported.',
    );
    expect(bad.stderr).toContain('re-create the baseline with `evalrun baseline save "support"`');
  });
});

describe("baseline save", () => {
  it("saves a project's evals when one it ran before is gone (evalrun init's example, replaced), and says so", async () => {
    const dir = project({
      "package.json": PACKAGE,
      "evals/example.eval.ts": SUPPORT.replace('Eval("support"', 'Eval("example"'),
    });
    await runCli(["--no-progress"], { cwd: dir });
    renameSync(path.join(dir, "evals", "example.eval.ts"), path.join(dir, "evals", "support.eval.ts"));
    writeFileSync(path.join(dir, "evals", "support.eval.ts"), SUPPORT);
    await runCli(["--no-progress"], { cwd: dir });
    const save = await runCli(["baseline", "save"], { cwd: dir });
    expect(save.code).toBe(0);
    expect(save.stdout).toContain("saved evals/__baselines__/support.jsonl");
    expect(save.stdout).toContain(
      "skipped example (its last run's file evals/example.eval.ts is no longer there); an eval whose file is gone is forgotten with `evalrun prune --keep 0 EVAL`.",
    );
    // Forgotten, it is not mentioned again.
    expect((await runCli(["prune", "--keep", "0", "example"], { cwd: dir })).code).toBe(0);
    expect((await runCli(["baseline", "save"], { cwd: dir })).stdout).not.toContain("example");
  });

  it("says which evals it passed over because their runs had no rows or only errors", async () => {
    const dir = project({
      "package.json": PACKAGE,
      "evals/two.eval.ts": `import { Eval } from "evalrun";
Eval("empty", { data: [], task: (x: string) => x, scores: [function Eq() { return 1; }] });
Eval("fine", { data: [{ input: "a" }], task: (x: string) => x, scores: [function Eq() { return 1; }] });
`,
    });
    await runCli(["--no-progress"], { cwd: dir });
    const save = await runCli(["baseline", "save"], { cwd: dir });
    expect(save.code).toBe(0);
    expect(save.stdout).toContain("saved evals/__baselines__/fine.jsonl");
    expect(save.stdout).toContain("skipped empty (its runs had no rows, or only errors and no score)");
    const named = await runCli(["baseline", "save", "empty"], { cwd: dir });
    expect(named.code).toBe(2);
    expect(named.stderr).toContain('Eval "empty"\'s complete runs had no rows, or only errors and no score');
  });

  it("refuses to save beside an eval file that has moved since its last run, where no run would look", async () => {
    const dir = project({ "package.json": PACKAGE, "evals/support.eval.ts": SUPPORT });
    await runCli(["--no-progress"], { cwd: dir });
    mkdirSync(path.join(dir, "evals", "new"));
    renameSync(path.join(dir, "evals", "support.eval.ts"), path.join(dir, "evals", "new", "support.eval.ts"));
    const save = await runCli(["baseline", "save", "support"], { cwd: dir });
    expect(save.code).toBe(2);
    expect(save.stderr).toContain(
      "was of evals/support.eval.ts, which is no longer there (moved, renamed or deleted?)",
    );
    expect(save.stderr).toContain('`evalrun prune --keep 0 "support"`');
    const all = await runCli(["baseline", "save"], { cwd: dir });
    expect(all.code).toBe(2);
    expect(all.stderr).toContain(
      "No eval to save: support (its last run's file evals/support.eval.ts is no longer there).",
    );
    expect(existsSync(path.join(dir, "evals", "__baselines__"))).toBe(false);
    // Run from its new place, it saves beside it.
    await runCli(["--no-progress"], { cwd: dir });
    expect((await runCli(["baseline", "save"], { cwd: dir })).code).toBe(0);
    expect(existsSync(path.join(dir, "evals", "new", "__baselines__", "support.jsonl"))).toBe(true);
  });

  it("writes each eval's latest run beside its file, one row per line, so a re-save differs only in changed rows", async () => {
    const dir = project({ "package.json": PACKAGE, "evals/support.eval.ts": SUPPORT });
    await runCli(["--no-progress"], { cwd: dir });
    const save = await runCli(["baseline", "save"], { cwd: dir });
    expect(save.code).toBe(0);
    const file = path.join(dir, "evals/__baselines__/support.jsonl");
    const before = readFileSync(file, "utf8").split("\n");
    expect(before).toHaveLength(202);
    expect(JSON.parse(before[0] as string)).toMatchObject({
      evalrun_export: 1,
      experiment: { project: "support" },
    });
    expect(JSON.parse(before[1] as string)).toEqual({
      row_key: "id:q0",
      input: "question 0",
      output: "answer to question 0",
      scores: { Factuality: 1 },
    });
    await runCli(["--no-progress"], { cwd: dir, env: { MODE: "better" } });
    await runCli(["baseline", "save", "support"], { cwd: dir });
    const after = readFileSync(file, "utf8").split("\n");
    const changed = after.flatMap((line, i) => (line === before[i] ? [] : [i]));
    // Rows 82-86 and 182-186 went from 0 to 1; nothing else (ids, timings) differs.
    expect(changed).toEqual([83, 84, 85, 86, 87, 183, 184, 185, 186, 187]);

    // Named with --baseline, the unchanged file is imported once, as when it is found beside its eval.
    const store = path.join(dir, ".evalrun", "evalrun.db");
    const imported = () => experiments(store).filter((e) => e.source === "import");
    const before2 = imported().length;
    for (let i = 0; i < 2; i++) {
      const run = await runCli(["--baseline", "evals/__baselines__/support.jsonl", "--no-progress"], {
        cwd: dir,
      });
      expect(run.stdout).toMatch(
        /baseline {4}evals\/__baselines__\/support\.jsonl@[0-9a-f]{8} · 200 rows matched/,
      );
    }
    expect(imported().length).toBe(before2 + 1);
  });

  it("refuses an eval with nothing to save", async () => {
    const dir = project({ "package.json": PACKAGE, "evals/support.eval.ts": SUPPORT });
    await runCli(["--no-progress"], { cwd: dir });
    const result = await runCli(["baseline", "save", "nope"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Eval "nope" has no complete experiment in');
    expect(result.stderr).toContain("Evals with experiments: support.");
  });
});
