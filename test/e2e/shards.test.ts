import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { baselineFile } from "../helpers/baseline.js";
import { project, runCli } from "../helpers/cli.js";

const PACKAGE = JSON.stringify({ name: "app", private: true, type: "module" });

// What these tests check must not depend on the CI running them: a store named by the environment, or GitHub
// Actions' variables (which would add the github reporter to --ci and append to the real job summary).
beforeAll(() => {
  for (const name of ["EVALRUN_STORE", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_WORKSPACE"])
    delete process.env[name];
});

/** 120 rows, two trials; scores vary by row and trial. REVERSE=1 reads the data backwards. */
const QA = `import { Eval } from "evalrun";
const rows = Array.from({ length: 120 }, (_, i) => ({ id: "r" + i, input: { q: i, text: "question " + i } }));
Eval("qa", {
  data: process.env.REVERSE === "1" ? [...rows].reverse() : rows,
  task: (input: { q: number }) => input.q,
  scores: [
    function Correct({ output, trialIndex }: { output: number; trialIndex: number }) {
      return (output * 7 + trialIndex) % 10 < 7 ? 1 : 0;
    },
    function Graded({ output }: { output: number }) {
      return ((output * 13) % 100) / 100;
    },
  ],
  trialCount: 2,
  thresholds: { Correct: 0.5 },
});
`;

const TINY = `import { Eval } from "evalrun";
Eval("tiny", { data: [{ input: "a" }, { input: "b" }, { input: "c" }], task: (x: string) => x, scores: [function Same() { return 1; }] });
`;

/** Every row of qa at Correct 0.75 and Graded 0.5: the run moves both ways against it. */
const QA_BASELINE = baselineFile(
  "qa",
  Array.from({ length: 120 }, (_, i) => ({
    row_key: `id:r${i}`,
    input: { q: i },
    scores: { Correct: i % 4 === 0 ? 0 : 1, Graded: 0.5 },
  })),
);

/** The parts of a summary that must not depend on how the rows were split (timings and names do). */
function comparable(doc: {
  evals: Array<{ name: string; summary: Record<string, unknown>; stats: unknown; gate: unknown }>;
}) {
  return doc.evals
    .map((e) => {
      const s = e.summary as { scores: unknown; metrics: { rows: unknown; errors: unknown } };
      return {
        name: e.name,
        scores: s.scores,
        rows: s.metrics.rows,
        errors: s.metrics.errors,
        stats: e.stats,
        gate: e.gate,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

const keysOf = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => `${JSON.parse(l).row_key}#${JSON.parse(l).trial_index}`);

describe("sharding and merge", () => {
  it("four shards merged give the summary, intervals and verdict of one unsharded run", async () => {
    const dir = project({
      "package.json": PACKAGE,
      "evals/qa.eval.ts": QA,
      "evals/tiny.eval.ts": TINY,
      "evals/__baselines__/qa.jsonl": QA_BASELINE,
    });
    const gateFlags = ["--fail-on-regression", "--reporter", "json"];
    // With the store on, so that tiny (no baseline) keeps its rows for intervals too, as merge does.
    const whole = await runCli(gateFlags, { cwd: dir });
    const shards = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        runCli(["--no-store", "--shard", `${i}/4`, "--export", `shards/${i}`, "--jsonl"], {
          cwd: dir,
          env: { REVERSE: i === 2 ? "1" : "0" },
        }),
      ),
    );
    for (const s of shards) expect(s.code, s.stderr).toBe(0);
    const parts = [1, 2, 3, 4].map((i) => keysOf(path.join(dir, `shards/${i}/qa.jsonl`)));
    const all = parts.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(240);
    for (const part of parts) expect(part.length).toBeGreaterThan(20);
    expect(readdirSync(path.join(dir, "shards/1")).sort()).toEqual(["qa.jsonl", "tiny.jsonl"]);

    const files = [1, 2, 3, 4].flatMap((i) => [`shards/${i}/qa.jsonl`, `shards/${i}/tiny.jsonl`]);
    const merged = await runCli(["merge", ...files, "--no-store", ...gateFlags], { cwd: dir });
    expect(merged.code, merged.stderr).toBe(whole.code);
    const a = comparable(JSON.parse(whole.stdout));
    const b = comparable(JSON.parse(merged.stdout));
    expect(b).toEqual(a);
    expect(JSON.stringify(a)).toContain('"regressions"');
    expect(JSON.parse(merged.stdout).evals.find((e: { name: string }) => e.name === "qa").baseline).toMatch(
      /^evals\/__baselines__\/qa\.jsonl@/,
    );

    // A shard's rows do not depend on the data's order: shard 2 read its data backwards.
    const again = await runCli(["--no-store", "--shard", "2/4", "--export", "again", "--min-score", "0.99"], {
      cwd: dir,
    });
    expect(again.code).toBe(0);
    // A shard does not gate (its means cover part of the rows); merge does.
    expect(again.stdout).toContain("· qa: gates are left to `evalrun merge` (this run is shard 2/4)");
    expect(new Set(keysOf(path.join(dir, "again/qa.jsonl")))).toEqual(new Set(parts[1]));

    // The thresholds recorded with the shards gate the merge: Correct must reach 0.5.
    const strict = await runCli(["merge", ...files, "--no-store", "--min-score", "qa:Graded=0.9"], {
      cwd: dir,
    });
    expect(strict.code).toBe(1);
    const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
    const correct =
      Array.from({ length: 240 }, (_, k) => ((k >> 1) * 7 + (k % 2)) % 10 < 7).filter(Boolean).length / 240;
    expect(strict.stdout).toContain(`✔ PASS  threshold   Correct ${pct(correct)} >= 50.0%`);
    const graded =
      Array.from({ length: 120 }, (_, i) => ((i * 13) % 100) / 100).reduce((a, v) => a + v, 0) / 120;
    expect(strict.stdout).toContain(
      `Graded ${pct(graded)} is below its minimum 90.0% (--min-score qa:Graded=0.9)`,
    );

    // Refusals: a missing shard, a shard twice, shards that do not line up across evals.
    const missing = await runCli(
      ["merge", ...files.filter((f) => !f.startsWith("shards/3/")), "--no-store"],
      { cwd: dir },
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/Eval "(qa|tiny)" lacks shard 3\/4 \(given: /);
    const twice = await runCli(["merge", ...files, "shards/1/qa.jsonl", "--no-store"], { cwd: dir });
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain(
      'Shard 1/4 of eval "qa" is given twice: shards/1/qa.jsonl (1/4), shards/1/qa.jsonl (1/4).',
    );
    const mixed = await runCli(["merge", ...files.filter((f) => !f.endsWith("4/tiny.jsonl")), "--no-store"], {
      cwd: dir,
    });
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('Eval "tiny" lacks shard 4/4');
  });

  it("refuses overlapping rows and files without an export header", async () => {
    const dir = project({ "package.json": PACKAGE, "evals/qa.eval.ts": QA });
    await runCli(["--no-store", "--first", "10", "--export", "a", "--jsonl"], { cwd: dir });
    // Two runs of one selection: not shards of one run, each holding the same rows.
    await runCli(["--no-store", "--first", "10", "--export", "b", "--jsonl"], { cwd: dir });
    const overlap = await runCli(["merge", "a/qa.jsonl", "b/qa.jsonl", "--no-store"], { cwd: dir });
    expect(overlap.code).toBe(2);
    expect(overlap.stderr).toContain(
      'Row id:r0 (trial 0) of eval "qa" is in both a/qa.jsonl and b/qa.jsonl, and more rows overlap: merged, it would count twice.',
    );
    const headerless = project({ "rows.jsonl": '{"input":"x","scores":{"a":1}}\n' });
    const noHeader = await runCli(["merge", "rows.jsonl", "--no-store"], { cwd: headerless });
    expect(noHeader.code).toBe(2);
    expect(noHeader.stderr).toContain("rows.jsonl:1 is not an evalrun export header");
  });

  it("refuses a shard that did not finish, and shards of other selections or trials; keeps a --first run's", async () => {
    const dir = project({ "package.json": PACKAGE, "evals/qa.eval.ts": QA });
    await runCli(["--no-progress"], { cwd: dir });
    for (const i of [1, 2])
      await runCli(["--first", "10", "--shard", `${i}/2`, "--export", `s${i}`], { cwd: dir });
    // A shard a cancelled CI step interrupted still exports what it ran, marked so.
    const shard1 = path.join(dir, "s1", "qa.jsonl");
    const complete = readFileSync(shard1, "utf8");
    writeFileSync(shard1, complete.replace('"status":"complete"', '"status":"interrupted"'));
    const interrupted = await runCli(["merge", "s1/qa.jsonl", "s2/qa.jsonl"], { cwd: dir });
    expect(interrupted.code).toBe(2);
    expect(interrupted.stderr).toContain(
      's1/qa.jsonl holds a run of eval "qa" (1/2) that did not finish (its experiment is interrupted)',
    );
    writeFileSync(shard1, complete);
    const merged = await runCli(["merge", "s1/qa.jsonl", "s2/qa.jsonl"], { cwd: dir });
    expect(merged.code).toBe(0);
    // The merge of --first 10 shards is a --first 10 run: never the default baseline of a run of every row.
    const full = await runCli(["--no-progress"], { cwd: dir });
    expect(full.stdout).toMatch(/baseline\s+\S+ · 120 rows matched\n/);
    await runCli(["--shard", "2/2", "--export", "all2"], { cwd: dir });
    const mixed = await runCli(["merge", "s1/qa.jsonl", "all2/qa.jsonl"], { cwd: dir });
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain(
      'The shards of eval "qa" selected different rows (s1/qa.jsonl: `--first 10`; all2/qa.jsonl: every row)',
    );
    // The same filters in another order are the same rows: one run.
    await runCli(["--filter", "id=r1", "--filter", "input.q=1", "--shard", "1/2", "--export", "f1"], {
      cwd: dir,
    });
    await runCli(["--filter", "input.q=1", "--filter", "id=r1", "--shard", "2/2", "--export", "f2"], {
      cwd: dir,
    });
    expect((await runCli(["merge", "f1/qa.jsonl", "f2/qa.jsonl", "--no-store"], { cwd: dir })).code).toBe(0);
    await runCli(["--shard", "1/2", "--trials", "1", "--export", "one1"], { cwd: dir });
    const trials = await runCli(["merge", "one1/qa.jsonl", "all2/qa.jsonl"], { cwd: dir });
    expect(trials.code).toBe(2);
    expect(trials.stderr).toContain("ran different numbers of trials (one1/qa.jsonl: 1; all2/qa.jsonl: 2)");
  });

  it("gates shard 1/1 as the whole run it is (a CI matrix of one job may have no merge step)", async () => {
    const dir = project({ "package.json": PACKAGE, "evals/qa.eval.ts": QA });
    const one = await runCli(["--shard", "1/1", "--min-score", "Correct=0.9", "--no-progress"], { cwd: dir });
    expect(one.code).toBe(1);
    expect(one.stdout).toContain("✘ FAIL  threshold   Correct 70.0% is below its minimum 90.0%");
    expect(one.stdout).not.toContain("gates are left to");
    // A full run, so the next run's baseline.
    const next = await runCli(["--no-progress"], { cwd: dir });
    expect(next.stdout).toMatch(/baseline\s+\d{8}-\d{6}/);
    const half = await runCli(["--shard", "1/2", "--min-score", "Correct=0.9", "--no-progress"], {
      cwd: dir,
    });
    expect(half.code).toBe(0);
    expect(half.stdout).toContain("gates are left to `evalrun merge` (this run is shard 1/2)");
  });

  it("refuses an --export directory it cannot write before running anything", async () => {
    const dir = project({ "package.json": PACKAGE, "evals/qa.eval.ts": QA, afile: "not a directory\n" });
    for (const target of ["afile", "afile/below"]) {
      const result = await runCli(["--export", target], { cwd: dir });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`--export ${target}: cannot write there (`);
      expect(result.stderr).toContain("is a file, not a directory");
      expect(result.stdout).toBe("");
    }
    const made = await runCli(["--export", "new/deeper", "--first", "2", "--jsonl"], { cwd: dir });
    expect(made.code).toBe(0);
    expect(readdirSync(path.join(dir, "new", "deeper"))).toEqual(["qa.jsonl"]);
  });
});

describe("row selection", () => {
  it("--first N runs the first N rows; --sample N --seed S the same N rows every time", async () => {
    const dir = project({ "package.json": PACKAGE, "evals/qa.eval.ts": QA });
    const first = await runCli(["--no-store", "--first", "5", "--export", "first", "--jsonl"], { cwd: dir });
    expect(JSON.parse(first.stdout).metrics.rows.metric).toBe(10);
    expect(keysOf(path.join(dir, "first/qa.jsonl"))).toEqual(
      ["r0", "r1", "r2", "r3", "r4"].flatMap((r) => [`id:${r}#0`, `id:${r}#1`]),
    );
    const sample = (seed: string, out: string, reverse = "0") =>
      runCli(["--no-store", "--sample", "7", "--seed", seed, "--export", out, "--jsonl"], {
        cwd: dir,
        env: { REVERSE: reverse },
      }).then(() => new Set(keysOf(path.join(dir, out, "qa.jsonl"))));
    const [one, same, backwards, other] = await Promise.all([
      sample("3", "s1"),
      sample("3", "s2"),
      sample("3", "s3", "1"),
      sample("4", "s4"),
    ]);
    expect(one.size).toBe(14);
    expect(same).toEqual(one);
    expect(backwards).toEqual(one);
    expect(other).not.toEqual(one);
    const both = await runCli(["--first", "3", "--sample", "3"], { cwd: dir });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--first and --sample cannot be used together.");
  });

  it("--first N stops reading the data once it has its N rows (a paginated source is not read to its end)", async () => {
    const dir = project({
      "package.json": PACKAGE,
      "paged.eval.ts": `import { Eval } from "evalrun";
import { appendFileSync } from "node:fs";
async function* pages() {
  for (let page = 0; page < 20; page++) {
    appendFileSync("pages.log", page + "\\n");
    for (let i = 0; i < 10; i++) yield { input: page * 10 + i };
  }
}
Eval("paged", { data: pages, task: (i: number) => i, scores: [() => 1] });
`,
    });
    const result = await runCli(["--no-store", "--first", "15", "--jsonl"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).metrics.rows.metric).toBe(15);
    expect(readFileSync(path.join(dir, "pages.log"), "utf8").trim().split("\n")).toEqual(["0", "1"]);
  });
});
