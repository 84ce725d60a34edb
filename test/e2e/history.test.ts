import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { BIN, project, runCli, summaryOf } from "../helpers/cli.js";

/** An eval whose outputs depend on VERSION, so two runs differ in known ways. */
const EVAL = `import { Eval } from "evalrun";
const answers: Record<string, Record<string, string>> = {
  "1": { a: "A", b: "B", c: "x", d: "D" },
  "2": { a: "A", b: "x", c: "C", d: "D" },
};
Eval("hist", {
  data: [
    { id: "a", input: "a", expected: "A" },
    { id: "b", input: "b", expected: "B", metadata: { note: "comma, \\"quoted\\"" } },
    { id: "c", input: "c", expected: "C" },
    { id: "d", input: "d", expected: "D", tags: ["t1"] },
  ],
  task: (input: string) => answers[process.env.VERSION ?? "1"]?.[input] ?? "?",
  scores: [function exact({ output, expected }: any) { return output === expected; }],
});
`;

async function twoRuns() {
  const dir = project({ "package.json": "{}", "hist.eval.ts": EVAL });
  const one = await runCli(["--jsonl"], { cwd: dir, env: { VERSION: "1" } });
  const two = await runCli(["--jsonl"], { cwd: dir, env: { VERSION: "2" } });
  return { dir, one: summaryOf(one.stdout, "hist"), two: summaryOf(two.stdout, "hist") };
}

describe("history commands", () => {
  it("lists experiments newest first, as text and JSON", async () => {
    const { dir, one, two } = await twoRuns();
    const text = await runCli(["experiments"], { cwd: dir });
    expect(text.code).toBe(0);
    const lines = text.stdout.split("\n");
    expect(lines[0]).toMatch(
      /^EVAL\s+EXPERIMENT\s+CREATED \(UTC\)\s+COMMIT\s+ROWS\s+ERRORS\s+STATUS\s+SCORES/,
    );
    expect(lines[1]).toMatch(
      new RegExp(`^hist\\s+${two.experiment_name}\\s.*\\s4\\s+0\\s+complete\\s+exact 75\\.0%`),
    );
    expect(lines[2]).toMatch(new RegExp(`^hist\\s+${one.experiment_name}\\s`));
    const json = await runCli(["experiments", "hist", "--json"], { cwd: dir });
    const list = JSON.parse(json.stdout) as Array<{
      name: string;
      status: string;
      summary: unknown;
      project: string;
    }>;
    expect(list.map((e) => e.name)).toEqual([two.experiment_name, one.experiment_name]);
    expect(list[0]?.summary).toEqual(two);
    const none = await runCli(["experiments", "other-eval"], { cwd: dir });
    expect(none.stdout).toContain('No experiments of eval "other-eval" yet.');
  });

  it("shows an experiment with its lowest-scoring rows", async () => {
    const { dir, two } = await twoRuns();
    const show = await runCli(["show", two.experiment_name], { cwd: dir });
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`hist / ${two.experiment_name}  (complete)`);
    expect(show.stdout).toMatch(/exact\s+75\.0%\s+4 scored\s+\(\+0\.0%\)\s+1 improvement\s+1 regression/);
    expect(show.stdout).toMatch(/id:b\s+mean 0\.00/);
    expect(show.stdout).toContain('output   "x"');
    expect(show.stdout).toContain('expected "B"');
    const json = JSON.parse(
      (await runCli(["show", two.experiment_name, "--json", "--rows", "1"], { cwd: dir })).stdout,
    );
    expect(json.rows).toBe(4);
    expect(json.lowest).toEqual([
      { row_key: "id:b", mean: 0, scores: { exact: 0 }, input: "b", output: "x", expected: "B" },
    ]);
  });

  it("show and compare print a judge's reason for a low or regressed row (its choice and rationale)", async () => {
    const dir = project({
      "package.json": JSON.stringify({ type: "module" }),
      "why.eval.ts": `import { Eval } from "evalrun";
const wrong = process.env.WRONG === "1";
Eval("why", {
  data: [{ input: "capital of France", expected: "Paris" }],
  task: () => (wrong ? "Lyon" : "Paris"),
  scores: [({ output, expected }: { output: string; expected: string }) => ({
    name: "Factuality",
    score: output === expected ? 1 : 0,
    metadata: { choice: output === expected ? "C" : "D", rationale: output === expected ? "Same answer." : "They disagree on the city. ##[error]not an annotation" },
  })],
});
`,
    });
    const one = summaryOf((await runCli(["--jsonl"], { cwd: dir })).stdout, "why");
    const two = summaryOf((await runCli(["--jsonl"], { cwd: dir, env: { WRONG: "1" } })).stdout, "why");
    const shown = await runCli(["show", two.experiment_name], { cwd: dir });
    expect(shown.stdout).toContain("why      Factuality: (D) They disagree on the city.");
    const compared = await runCli(["compare", one.experiment_name, two.experiment_name], { cwd: dir });
    expect(compared.stdout).toMatch(/why\s+\(D\) They disagree on the city\. ##\[error\]not an annotation/);
    // Model text: on GitHub Actions it must not run as a workflow command.
    const onActions = await runCli(["compare", one.experiment_name, two.experiment_name], {
      cwd: dir,
      env: { GITHUB_ACTIONS: "true" },
    });
    expect(onActions.stdout).not.toContain("##[error]");
  });

  it("show gives a low row's scores as its trials' means, the numbers its mean is made of", async () => {
    const dir = project({
      "trials.eval.ts": `import { Eval } from "evalrun";
Eval("trials", {
  data: [{ input: "a" }, { input: "b" }],
  task: (x: string) => x,
  scores: [function alt() { return 1; }, function half({ trialIndex }: any) { return trialIndex % 2; }],
  trialCount: 4,
});
`,
    });
    expect((await runCli(["--no-progress"], { cwd: dir })).code).toBe(0);
    const [{ id }] = JSON.parse((await runCli(["experiments", "--json"], { cwd: dir })).stdout);
    const shown = JSON.parse((await runCli(["show", id, "--json", "--rows", "1"], { cwd: dir })).stdout);
    expect(shown.lowest[0]).toMatchObject({ mean: 0.75, scores: { alt: 1, half: 0.5 } });
  });

  it("does not call a score new that the previous run had but never scored", async () => {
    const dir = project({
      "nul.eval.ts": `import { Eval } from "evalrun";
Eval("nul", { data: [{ input: 1 }, { input: 2 }], task: (x: number) => x, scores: [function Nul() { return null; }, function One() { return 1; }] });
`,
    });
    await runCli(["--no-progress"], { cwd: dir });
    const second = await runCli(["--no-progress"], { cwd: dir, env: { NO_COLOR: "1" } });
    expect(second.stdout).toMatch(/Nul\s+–\s+\(–\)\s+0 improvements/);
    expect(second.stdout).not.toContain("(new)");
  });

  it("exports CSV score columns in the scorers' order, as the summary lists them", async () => {
    const dir = project({
      "order.eval.ts": `import { Eval } from "evalrun";
Eval("order", { data: [{ input: 1 }], task: (x: number) => x, scores: [function Zeta() { return 1; }, function Alpha() { return 0; }, function Mid() { return 0.5; }] });
`,
    });
    await runCli(["--no-progress"], { cwd: dir });
    const [{ id }] = JSON.parse((await runCli(["experiments", "--json"], { cwd: dir })).stdout);
    const csv = await runCli(["export", id, "--format", "csv"], { cwd: dir });
    expect(csv.stdout.split("\n")[0]).toContain("score:Zeta,score:Alpha,score:Mid");
  });

  it("compares two experiments: score movement and the regressed rows side by side", async () => {
    const { dir, one, two } = await twoRuns();
    const text = await runCli(["compare", one.experiment_name, two.experiment_name], { cwd: dir });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("4 rows matched · 0 only in");
    expect(text.stdout).toMatch(/exact\s+75\.0%\s+75\.0%\s+\+0\.0%\s+1\s+1/);
    expect(text.stdout).toMatch(/id:b\s+exact 1\.00 → 0\.00/);
    // Each side under its whole name, whatever its length (two runs of one commit differ at the end).
    const width = Math.max(one.experiment_name.length, two.experiment_name.length);
    expect(text.stdout).toContain(`${one.experiment_name.padEnd(width)} "B"`);
    expect(text.stdout).toContain(`${two.experiment_name.padEnd(width)} "x"`);
    const json = JSON.parse(
      (await runCli(["compare", one.experiment_name, two.experiment_name, "--json"], { cwd: dir })).stdout,
    );
    expect(json.scores).toEqual([
      { name: "exact", before: 0.75, after: 0.75, diff: 0, matched: 4, improvements: 1, regressions: 1 },
    ]);
    expect(json.most_regressed).toEqual([
      {
        row_key: "id:b",
        score: "exact",
        before: 1,
        after: 0,
        input: "b",
        expected: "B",
        output_before: "B",
        output_after: "x",
      },
    ]);
  });

  it("compares a name several evals share with one only one eval has, taking that eval", async () => {
    const dir = project({
      "package.json": "{}",
      "two.eval.ts": `import { Eval } from "evalrun";
Eval("one", { experimentName: process.env.NAME_ONE, data: [{ input: 1 }], task: (x: number) => x, scores: [function s() { return 1; }] });
Eval("two", { experimentName: process.env.NAME_TWO, data: [{ input: 1 }], task: (x: number) => x, scores: [function s() { return 1; }] });
`,
    });
    await runCli(["--no-progress"], { cwd: dir, env: { NAME_ONE: "base", NAME_TWO: "base" } });
    await runCli(["--no-progress"], { cwd: dir, env: { NAME_ONE: "next", NAME_TWO: "other" } });
    const compared = await runCli(["compare", "base", "next"], { cwd: dir });
    expect(compared.code).toBe(0);
    expect(compared.stdout).toContain("one: base → next");
    // Both names in both evals: still ambiguous, and said so.
    const both = await runCli(["compare", "base", "base"], { cwd: dir });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('"base" names 2 experiments');
  });

  it("exports jsonl that imports into another store and exports again byte for byte", async () => {
    const { dir, two } = await twoRuns();
    const exported = await runCli(["export", two.experiment_name], { cwd: dir });
    expect(exported.code).toBe(0);
    const lines = exported.stdout.trim().split("\n");
    expect(lines).toHaveLength(5);
    const header = JSON.parse(lines[0] ?? "{}");
    expect(header.evalrun_export).toBe(1);
    expect(header.experiment).toMatchObject({
      project: "hist",
      name: two.experiment_name,
      status: "complete",
      summary: two,
    });
    const rows = lines.slice(1).map((l) => JSON.parse(l));
    expect(rows.map((r) => r.row_key)).toEqual(["id:a", "id:b", "id:c", "id:d"]);
    expect(rows[1]).toMatchObject({
      input: "b",
      output: "x",
      expected: "B",
      scores: { exact: 0 },
      trial_index: 0,
    });
    const file = path.join(dir, "artifact.jsonl");
    writeFileSync(file, exported.stdout);

    const other = path.join(dir, "other.db");
    const imported = await runCli(["import", file, "--store", other], { cwd: dir });
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain(`imported 4 rows from artifact.jsonl as hist / ${two.experiment_name}`);
    const again = await runCli(["export", two.experiment_name, "--store", other], { cwd: dir });
    expect(again.stdout.split("\n").slice(1)).toEqual(exported.stdout.split("\n").slice(1));
    const listed = JSON.parse(
      (await runCli(["experiments", "--json", "--store", other], { cwd: dir })).stdout,
    );
    expect(listed[0]).toMatchObject({ source: "import", summary: two });

    const twice = await runCli(["import", file, "--store", other], { cwd: dir });
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain("which the store already has");

    // Rows rescored by hand under a new id: the header's summary no longer describes them, so it is not believed.
    const edited = exported.stdout
      .trim()
      .split("\n")
      .map((line, i) => {
        const value = JSON.parse(line);
        if (i === 0)
          value.experiment = {
            ...value.experiment,
            id: "5f0c0c9e-7a7e-4c4e-9d47-000000000001",
            name: "rescored",
          };
        else value.scores.exact = 1;
        return JSON.stringify(value);
      });
    writeFileSync(path.join(dir, "rescored.jsonl"), `${edited.join("\n")}\n`);
    expect((await runCli(["import", "rescored.jsonl", "--store", other], { cwd: dir })).code).toBe(0);
    const rescored = JSON.parse(
      (await runCli(["experiments", "--json", "--store", other], { cwd: dir })).stdout,
    ).find((e: { name: string }) => e.name === "rescored");
    expect(rescored.summary.scores.exact).toMatchObject({ score: 1, scored: 4 });
  });

  it("keeps a partial run partial through export and import: it is not the next run's baseline", async () => {
    const { dir, one } = await twoRuns();
    const first = summaryOf((await runCli(["--jsonl", "--first", "2"], { cwd: dir })).stdout, "hist");
    for (const name of [one.experiment_name, first.experiment_name]) {
      writeFileSync(path.join(dir, `${name}.jsonl`), (await runCli(["export", name], { cwd: dir })).stdout);
      expect((await runCli(["import", `${name}.jsonl`, "--store", "other.db"], { cwd: dir })).code).toBe(0);
    }
    const shown = await runCli(["show", first.experiment_name, "--store", "other.db"], { cwd: dir });
    expect(shown.stdout).toContain("selection   --first 2 (some rows only)");
    // The full run is the baseline, though the partial one was made (and imported) after it.
    const next = await runCli(["--no-progress", "--store", "other.db"], { cwd: dir });
    expect(next.stdout).toContain(`baseline    ${one.experiment_name} · 4 rows matched`);
  });

  it("compares a run that never finished by the rows it stored", async () => {
    const { dir, one } = await twoRuns();
    // A run killed before it finished stored rows and no summary.
    const killed = await runCli(["--jsonl", "--first", "2"], { cwd: dir, env: { VERSION: "2" } });
    const name = summaryOf(killed.stdout, "hist").experiment_name;
    const db = new Database(path.join(dir, ".evalrun", "evalrun.db"));
    db.prepare("UPDATE experiments SET status = 'interrupted', summary = NULL WHERE name = ?").run(name);
    db.close();
    const compared = await runCli(["compare", one.experiment_name, name, "--json"], { cwd: dir });
    const scores = JSON.parse(compared.stdout).scores as Array<{ name: string; after: number | null }>;
    // Its rows a and b: A (right) and x (wrong).
    expect(scores.find((s) => s.name === "exact")?.after).toBe(0.5);
  });

  it("exports json and csv", async () => {
    const { dir, one } = await twoRuns();
    const json = JSON.parse(
      (await runCli(["export", one.experiment_name, "--format", "json"], { cwd: dir })).stdout,
    );
    expect(json.experiment.name).toBe(one.experiment_name);
    expect(json.rows).toHaveLength(4);
    // --json, which every store command takes, asks for the same.
    const flag = await runCli(["export", one.experiment_name, "--json"], { cwd: dir });
    expect(JSON.parse(flag.stdout)).toEqual(json);
    const csv = await runCli(["export", one.experiment_name, "--format", "csv"], { cwd: dir });
    const lines = csv.stdout.trim().split("\n");
    expect(lines[0]).toBe(
      "id,row_key,row_index,trial_index,input,output,expected,error,score:exact,metadata,tags,duration_s",
    );
    expect(lines).toHaveLength(5);
    // A field with a comma and quotes is quoted, its quotes doubled.
    expect(lines[2]).toContain(',"{""note"":""comma, \\""quoted\\""""}",');
    const bad = await runCli(["export", one.experiment_name, "--format", "xml"], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--format "xml" is not one of jsonl, json, csv.');
  });

  it("shows and exports errors: a task's, and a scorer's that leaves its score cell empty", async () => {
    const dir = project({
      "package.json": "{}",
      "err.eval.ts": `import { Eval } from "evalrun";
Eval("err", {
  data: [{ input: 1 }, { input: 2 }, { input: 3 }],
  task: (x: number) => { if (x === 3) throw new Error("task broke"); return x; },
  scores: [function judge({ input }: any) { if (input === 2) throw new Error("judge broke"); return 1; }],
});
`,
    });
    const run = summaryOf((await runCli(["--jsonl"], { cwd: dir })).stdout, "err");
    const show = await runCli(["show", run.experiment_name], { cwd: dir });
    expect(show.stdout).toMatch(/judge\s+100\.0%\s+1 scored · 1 error/);
    expect(show.stdout).toMatch(
      /row 1 score\s+Scorer "judge" threw Error: judge broke \(at err\.eval\.ts:\d+:\d+\)/,
    );
    expect(show.stdout).toMatch(/row 2 task\s+Error: task broke/);
    const json = JSON.parse((await runCli(["show", run.experiment_name, "--json"], { cwd: dir })).stdout);
    expect(json.errors.map((e: { row_index: number; kind: string }) => [e.row_index, e.kind])).toEqual([
      [1, "score"],
      [2, "task"],
    ]);
    const csv = await runCli(["export", run.experiment_name, "--format", "csv"], { cwd: dir });
    const lines = csv.stdout.trim().split("\n");
    expect(lines[2]).toMatch(
      /,"score judge: Scorer ""judge"" threw Error: judge broke \(at err\.eval\.ts:\d+:\d+\)",,/,
    );
    expect(lines[3]).toContain(",task: Error: task broke,");
  });

  it("refuses a malformed import with the line number, storing nothing", async () => {
    const { dir, one } = await twoRuns();
    const exported = (await runCli(["export", one.experiment_name], { cwd: dir })).stdout.trim().split("\n");
    const broken = [...exported.slice(0, 3), "{not json", ...exported.slice(3)].join("\n");
    const file = path.join(dir, "broken.jsonl");
    writeFileSync(file, broken);
    const store = path.join(dir, "fresh.db");
    const result = await runCli(["import", file, "--store", store], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}:4: not valid JSON`);
    expect(result.stderr).toContain("Nothing was imported.");
    const list = await runCli(["experiments", "--json", "--store", store], { cwd: dir });
    expect(JSON.parse(list.stdout)).toEqual([]);

    writeFileSync(
      file,
      [...exported.slice(0, 2), JSON.stringify({ input: "q", scores: { exact: 3 } })].join("\n"),
    );
    const badScore = await runCli(["import", file, "--store", store], { cwd: dir });
    expect(badScore.stderr).toContain(
      `${file}:3: score "exact" is the number 3; scores are numbers in [0, 1] or null`,
    );

    writeFileSync(file, `${JSON.stringify({ input: "q", output: "Q", scores: { exact: 1 } })}\n`);
    const headerless = await runCli(["import", file, "--store", store], { cwd: dir });
    expect(headerless.code).toBe(2);
    expect(headerless.stderr).toContain("has no evalrun export header");
    const named = await runCli(
      ["import", file, "--store", store, "--eval", "hist", "--name", "manual", "--json"],
      { cwd: dir },
    );
    expect(named.code).toBe(0);
    expect(JSON.parse(named.stdout)).toMatchObject({
      rows: 1,
      experiment: { project: "hist", name: "manual" },
    });

    // A file holding no rows stores nothing (it would become the eval's baseline).
    writeFileSync(file, "");
    const empty = await runCli(["import", file, "--store", store, "--eval", "hist"], { cwd: dir });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("holds no rows. Nothing was imported.");

    // An export cut short: its summary is of the rows it holds, not the header's.
    writeFileSync(file, `${exported.slice(0, 3).join("\n")}\n`);
    const cut = await runCli(["import", file, "--store", path.join(dir, "cut.db"), "--json"], { cwd: dir });
    expect(cut.code).toBe(0);
    expect(JSON.parse(cut.stdout).experiment.summary.metrics.rows.metric).toBe(2);
  });

  it("takes back an experiment as the ambiguity error lists it, EVAL/NAME", async () => {
    const dir = project({
      "package.json": "{}",
      "two.eval.ts": `import { Eval } from "evalrun";
for (const name of ["support", "billing"]) Eval(name, { data: [{ input: 1 }], task: (x: number) => x, scores: [() => 1] });
`,
    });
    const run = summaryOf((await runCli(["--jsonl"], { cwd: dir })).stdout, "support");
    const ambiguous = await runCli(["show", run.experiment_name], { cwd: dir });
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain(`billing/${run.experiment_name}`);
    const shown = await runCli(["show", `billing/${run.experiment_name}`], { cwd: dir });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`billing / ${run.experiment_name}`);
  });

  it("names what an unknown experiment could have been", async () => {
    const { dir, one, two } = await twoRuns();
    const typo = `${one.experiment_name.slice(0, -1)}x`;
    const result = await runCli(["show", typo], { cwd: dir });
    expect(result.code).toBe(2);
    // Both names are one edit away from the typo (they differ by a second); either is a fair suggestion.
    expect(result.stderr).toMatch(
      new RegExp(
        `No experiment is named or has the id "${typo}"\\. Did you mean "(${one.experiment_name}|${two.experiment_name})"\\?`,
      ),
    );
    expect(result.stderr).toContain(`Recent experiments: ${two.experiment_name}, ${one.experiment_name}.`);
    const empty = project({ "package.json": "{}" });
    const fresh = await runCli(["show", "x"], { cwd: empty });
    expect(fresh.code).toBe(2);
    expect(fresh.stderr).toContain("There is no store at");
    // A typo in --eval is the eval's name, not an empty store.
    const evalTypo = await runCli(["show", one.experiment_name, "--eval", "hits"], { cwd: dir });
    expect(evalTypo.stderr).toContain(
      'The store has no experiments of eval "hits" (--eval). Did you mean "hist"?',
    );
    expect(evalTypo.stderr).toContain("hint: Its evals: hist.");
  });

  it("prunes all but the newest N experiments of each eval", async () => {
    const { dir, two } = await twoRuns();
    await runCli([], { cwd: dir, env: { VERSION: "1" } });
    const pruned = await runCli(["prune", "--keep", "1", "--json"], { cwd: dir });
    expect(pruned.code).toBe(0);
    expect(JSON.parse(pruned.stdout).removed).toHaveLength(2);
    const left = JSON.parse((await runCli(["experiments", "--json"], { cwd: dir })).stdout);
    expect(left).toHaveLength(1);
    expect(left[0].name).not.toBe(two.experiment_name);
    const exported = await runCli(["export", two.experiment_name], { cwd: dir });
    expect(exported.code).toBe(2);
    const unknown = await runCli(["prune", "--keep", "1", "nope"], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('The store has no experiments of eval "nope"; nothing was removed.');
    const missing = await runCli(["prune"], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--keep");
    expect(readFileSync(path.join(dir, ".evalrun", ".gitignore"), "utf8")).toBe("*\n");
  });

  it("keeps a running experiment's baseline, and the large values they share, through a prune", async () => {
    // A run does not send again the blobs its baseline holds: pruning that baseline mid-run used to take them, and
    // then the baseline itself went, and the run compared on no rows (its gate failing as if the data had changed).
    const dir = project({
      "package.json": JSON.stringify({ name: "app", private: true, type: "module" }),
      "blob.eval.ts": `import { Eval } from "evalrun";
Eval("blob", {
  data: Array.from({ length: 20 }, (_, i) => ({ input: String(i).padStart(3, "0") + "x".repeat(300) })),
  task: async (x: string) => { if (process.env.SLOW) await new Promise((r) => setTimeout(r, 100)); return x; },
  scores: [() => 1],
  maxConcurrency: 1,
});
`,
    });
    expect((await runCli(["--no-progress"], { cwd: dir })).code).toBe(0);
    const slow = runCli(["--no-progress"], { cwd: dir, env: { SLOW: "1" } });
    // Once the second run has started writing, remove every finished experiment.
    for (let i = 0; i < 100; i++) {
      const listed = JSON.parse((await runCli(["experiments", "--json"], { cwd: dir })).stdout) as Array<{
        status: string;
      }>;
      if (listed.some((e) => e.status === "running")) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const pruned = await runCli(["prune", "--keep", "0", "--json"], { cwd: dir });
    expect(JSON.parse(pruned.stdout).removed).toHaveLength(0);
    const second = await slow;
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/baseline\s+\S+ · 20 rows matched\n/);
    const name = /experiment\s+(\S+)/.exec(second.stdout)?.[1] as string;
    const rows = (await runCli(["export", name], { cwd: dir })).stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { input?: string; output?: string });
    const data = rows.filter((r) => !("evalrun_export" in r));
    expect(data).toHaveLength(20);
    for (const row of data) {
      expect(row.input?.length).toBe(303);
      expect(row.output).toBe(row.input);
    }
    // Once the run is over, its baseline is an old run like any other.
    const after = await runCli(["prune", "--keep", "1", "--json"], { cwd: dir });
    expect(JSON.parse(after.stdout).removed).toHaveLength(1);
  });

  it("ends export with exit 0 when its reader stops early (export | head)", async () => {
    const dir = project({
      "package.json": JSON.stringify({ name: "app", private: true, type: "module" }),
      "many.eval.ts": `import { Eval } from "evalrun";
Eval("many", { data: Array.from({ length: 300 }, (_, i) => ({ input: i })), task: (i: number) => String(i).repeat(200), scores: [() => 1] });
`,
    });
    const run = await runCli(["--no-progress"], { cwd: dir });
    const name = /experiment\s+(\S+)/.exec(run.stdout)?.[1] as string;
    const child = spawn(process.execPath, [BIN, "export", name], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += String(chunk);
    });
    // As `head -1` does: read the first line, then close the pipe.
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });

  it("prune keeps the newest complete runs (and anything newer), not crashed ones over them", async () => {
    const { dir, two } = await twoRuns();
    const store = path.join(dir, ".evalrun", "evalrun.db");
    // Two later runs that crashed: they are newer, but hold no baseline.
    await runCli([], { cwd: dir, env: { VERSION: "1" } });
    await runCli([], { cwd: dir, env: { VERSION: "1" } });
    const db = new Database(store);
    const seqs = db
      .prepare("SELECT seq FROM experiments ORDER BY seq DESC LIMIT 2")
      .pluck()
      .all() as number[];
    db.prepare(`UPDATE experiments SET status = 'interrupted' WHERE seq IN (${seqs.join(",")})`).run();
    db.close();
    const pruned = await runCli(["prune", "--keep", "1", "--json"], { cwd: dir });
    expect(JSON.parse(pruned.stdout).removed.map((e: { name: string }) => e.name)).toHaveLength(1);
    const left = JSON.parse((await runCli(["experiments", "--json"], { cwd: dir })).stdout) as Array<{
      name: string;
      status: string;
    }>;
    expect(left.map((e) => e.status)).toEqual(["interrupted", "interrupted", "complete"]);
    expect(left[2]?.name).toBe(two.experiment_name);
    // The next run still has its baseline.
    const next = await runCli(["--no-progress"], { cwd: dir, env: { VERSION: "1" } });
    expect(next.stdout).toContain(`baseline    ${two.experiment_name}`);
  });

  it("places an imported experiment by when it was made: an old one is not the newest, nor the baseline", async () => {
    const { dir: elsewhere, one } = await twoRuns();
    const file = path.join(elsewhere, "old.jsonl");
    writeFileSync(file, (await runCli(["export", one.experiment_name], { cwd: elsewhere })).stdout);
    await new Promise((r) => setTimeout(r, 20));
    const { dir, two } = await twoRuns();
    expect((await runCli(["import", file], { cwd: dir })).code).toBe(0);
    const listed = JSON.parse((await runCli(["experiments", "--json"], { cwd: dir })).stdout) as Array<{
      source: string;
    }>;
    expect(listed.map((e) => e.source)).toEqual(["run", "run", "import"]);
    const next = await runCli(["--no-progress"], { cwd: dir, env: { VERSION: "1" } });
    expect(next.stdout).toContain(`baseline    ${two.experiment_name}`);

    // A header whose date is written another way is placed by that date too; one that is no date is refused.
    const [head, ...rows] = readFileSync(file, "utf8").trim().split("\n");
    const withCreated = (created: unknown, name: string) => {
      const header = JSON.parse(head as string);
      header.experiment = { ...header.experiment, id: undefined, name, created };
      return `${[JSON.stringify(header), ...rows].join("\n")}\n`;
    };
    writeFileSync(path.join(dir, "rfc.jsonl"), withCreated("Mon, 01 Jan 2024 00:00:00 GMT", "rfc"));
    expect((await runCli(["import", "rfc.jsonl"], { cwd: dir })).code).toBe(0);
    const after = JSON.parse((await runCli(["experiments", "--json"], { cwd: dir })).stdout) as Array<{
      name: string;
      created: string;
    }>;
    expect(after.at(-1)).toMatchObject({ name: "rfc", created: "2024-01-01T00:00:00.000Z" });
    writeFileSync(path.join(dir, "nodate.jsonl"), withCreated("last tuesday", "nodate"));
    const refused = await runCli(["import", "nodate.jsonl"], { cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      'nodate.jsonl:1: the header\'s experiment.created is a string ("last tuesday"), not a date (an ISO timestamp). Nothing was imported.',
    );
  });

  it("shows an imported eval name's control characters escaped (an artifact cannot write to the terminal)", async () => {
    const dir = project({
      "esc.jsonl": `${JSON.stringify({ evalrun_export: 1, experiment: { project: "bad\u001b[31mRED\nname", name: "x" } })}\n${JSON.stringify({ input: 1, output: 1, scores: { s: 1 } })}\n`,
    });
    const result = await runCli(["import", "esc.jsonl", "--store", "esc.db"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("as bad\\u001b[31mRED\\nname / x");
    expect(result.stdout).not.toContain("\u001b");
    // And wherever else the history commands print the names.
    const store = ["--store", "esc.db"];
    const id = JSON.parse((await runCli(["experiments", "--json", ...store], { cwd: dir })).stdout)[0].id;
    for (const args of [["experiments"], ["show", id], ["prune", "--keep", "0"]]) {
      const out = await runCli([...args, ...store], { cwd: dir, env: { NO_COLOR: "1" } });
      expect(out.stdout + out.stderr, args.join(" ")).toContain("bad\\u001b[31mRED");
      expect(out.stdout + out.stderr, args.join(" ")).not.toContain("\u001b");
    }
  });

  it("says the config turns the store off, instead of importing into nothing", async () => {
    const { dir: elsewhere, one } = await twoRuns();
    const file = path.join(elsewhere, "one.jsonl");
    writeFileSync(file, (await runCli(["export", one.experiment_name], { cwd: elsewhere })).stdout);
    const dir = project({ "package.json": "{}", "evalrun.config.mjs": "export default { store: false };\n" });
    for (const args of [["import", file], ["experiments"]]) {
      const refused = await runCli(args, { cwd: dir });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(
        "The config sets `store: false`, so there is no history to read or write.",
      );
    }
    expect((await runCli(["import", file, "--store", "kept.db"], { cwd: dir })).code).toBe(0);
    const listed = await runCli(["experiments", "--json", "--store", "kept.db"], { cwd: dir });
    expect(JSON.parse(listed.stdout)).toHaveLength(1);
  });

  it("show prints stored error messages as text: escapes shown, no workflow command run on GitHub Actions", async () => {
    const dir = project({
      "package.json": "{}",
      "inj.eval.ts": `import { Eval } from "evalrun";
Eval("inj", { data: [{ input: 1 }], task: () => { throw new Error("model said:\\n::stop-commands::abc\\n\\u001b[31mred"); }, scores: [() => 1] });
`,
    });
    const run = await runCli(["--no-progress"], { cwd: dir });
    const name = /experiment\s+(\S+)/.exec(run.stdout)?.[1] as string;
    const shown = await runCli(["show", name], { cwd: dir, env: { GITHUB_ACTIONS: "true" } });
    expect(shown.code).toBe(0);
    expect(shown.stdout).not.toMatch(/^\s*::/m);
    expect(shown.stdout).not.toContain("\u001b[31m");
    expect(shown.stdout).toContain("\\u001b[31mred");
    expect(shown.stdout).toMatch(/^ {6}\\u003a:stop-commands::abc$/m);
  });
});
