import { symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { jsonLines, project, runCli, summaryOf } from "../helpers/cli.js";

const evalIn = (name: string, ts = true) =>
  `import { Eval } from "evalrun";\nEval(${JSON.stringify(name)}, { data: [{ input: 1 }], task: (x${ts ? ": number" : ""}) => x, scores: [() => 1] });\n`;

const names = (stdout: string) =>
  jsonLines(stdout)
    .map((s) => s.project_name as string)
    .sort();

describe("discovery and compile", () => {
  it("finds every eval extension and skips node_modules, dist, build, .git and .evalrun", async () => {
    const dir = project({
      "a.eval.ts": evalIn("ts"),
      "b.eval.mts": evalIn("mts"),
      "c.eval.cts": evalIn("cts"),
      "d.eval.tsx": evalIn("tsx"),
      "nested/deeper/e.eval.js": evalIn("js", false),
      "f.eval.mjs": evalIn("mjs", false),
      "g.eval.cjs": evalIn("cjs", false),
      "h.eval.jsx": evalIn("jsx", false),
      "helper.ts": "export const x = 1;\n",
      "node_modules/pkg/x.eval.ts": evalIn("in-node-modules"),
      "dist/x.eval.ts": evalIn("in-dist"),
      "build/x.eval.ts": evalIn("in-build"),
      ".evalrun/x.eval.ts": evalIn("in-store"),
    });
    const result = await runCli(["--jsonl"], { cwd: dir });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(names(result.stdout)).toEqual(["cjs", "cts", "js", "jsx", "mjs", "mts", "ts", "tsx"]);
  });

  it("says when eval files found have a config of their own that this run does not use (a monorepo's package)", async () => {
    const dir = project({
      "package.json": JSON.stringify({ name: "mono", private: true, type: "module" }),
      "packages/app/evalrun.config.mjs": "export default { trials: 2 };\n",
      "packages/app/evals/router.eval.ts": `import { Eval } from "evalrun";\nEval("router", { data: [{ input: 1 }], task: (x: number) => x, scores: [() => 1] });\n`,
    });
    const fromRoot = await runCli(["--no-store"], { cwd: dir });
    expect(fromRoot.stdout).toContain(
      "· packages/app/evalrun.config.mjs was not used (this run has no config): its evals ran with this run's settings. Run from packages/app, or pass --config packages/app/evalrun.config.mjs, for its own.",
    );
    const inPackage = await runCli(["--no-store"], { cwd: path.join(dir, "packages", "app") });
    expect(inPackage.stdout).toContain("2 row results");
    expect(inPackage.stdout).not.toContain("was not used");
  });

  it("leaves out the config's exclude globs, written relative to the config file as the README shows", async () => {
    const dir = project({
      "evalrun.config.ts":
        'export default { paths: ["evals"], exclude: ["evals/wip/**", "**/*.skip.eval.ts"] };\n',
      "evals/a.eval.ts": evalIn("kept"),
      "evals/wip/b.eval.ts": evalIn("wip"),
      "evals/deep/c.skip.eval.ts": evalIn("skipped"),
      "evals/deep/d.eval.ts": evalIn("deep"),
    });
    const result = await runCli(["--jsonl"], { cwd: dir });
    expect(result.stderr).toBe("");
    expect(names(result.stdout)).toEqual(["deep", "kept"]);
    // From a subdirectory, paths and globs are still the config's.
    const below = await runCli(["--jsonl"], { cwd: path.join(dir, "evals", "deep") });
    expect(names(below.stdout)).toEqual(["deep", "kept"]);
    // Paths given on the command line are the user's; the config's globs still say what is left out.
    const given = await runCli(["--jsonl", ".."], { cwd: path.join(dir, "evals", "deep") });
    expect(names(given.stdout)).toEqual(["deep", "kept"]);
  });

  it("finds a file once through a symlinked directory that leads back into the tree", async () => {
    const dir = project({ "evals/ok.eval.ts": evalIn("ok"), "evals/sub/keep.txt": "" });
    symlinkSync("..", path.join(dir, "evals", "sub", "up"));
    const result = await runCli(["--jsonl", "--no-store", "evals"], { cwd: dir });
    expect(result.stderr).not.toContain("DUPLICATE_EVAL");
    expect(result.code).toBe(0);
    expect(names(result.stdout)).toEqual(["ok"]);
  });

  it("shows a compile error in a long one-line JSON file of non-ASCII text at its character column, in a short frame", async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => ({ input: `質問 ${i}`, expected: "答え" }));
    const json = `${JSON.stringify(rows).slice(0, -1)},]`;
    const dir = project({
      "d.json": json,
      "j.eval.ts":
        'import data from "./d.json";\nimport { Eval } from "evalrun";\nEval("j", { data, task: (i: string) => i, scores: [] });\n',
    });
    const result = await runCli(["--no-store", "j.eval.ts"], { cwd: dir, env: { NO_COLOR: "1" } });
    expect(result.code).toBe(1);
    const output = result.stdout + result.stderr;
    expect(output).toContain(`d.json:1:${json.length - 1} [COMPILE]`);
    expect(Math.max(...output.split("\n").map((l) => l.length))).toBeLessThan(400);
    const lines = output.split("\n");
    const caretLine = lines.find((l) => /^\s+\|\s+\^/.test(l)) as string;
    const codeLine = lines[lines.indexOf(caretLine) - 1] as string;
    expect(codeLine[caretLine.indexOf("^")]).toBe(",");
  });

  it("takes explicit files whatever their name, directories and globs", async () => {
    const dir = project({
      "evals/a.eval.ts": evalIn("a"),
      "evals/b.eval.ts": evalIn("b"),
      "other/c.eval.ts": evalIn("c"),
      "scripts/check-prompts.ts": evalIn("explicit"),
    });
    const file = await runCli(["--jsonl", "scripts/check-prompts.ts"], { cwd: dir });
    expect(names(file.stdout)).toEqual(["explicit"]);
    const folder = await runCli(["--jsonl", "evals"], { cwd: dir });
    expect(names(folder.stdout)).toEqual(["a", "b"]);
    const glob = await runCli(["--jsonl", "**/c.eval.ts", "evals/a.eval.ts"], { cwd: dir });
    expect(names(glob.stdout)).toEqual(["a", "c"]);
  });

  it("supports top-level await and evals registered after it", async () => {
    const dir = project({
      "tla.eval.ts": `import { Eval } from "evalrun";
const rows = await new Promise<Array<{ input: number; expected: number }>>((resolve) =>
  setTimeout(() => resolve([{ input: 1, expected: 2 }, { input: 2, expected: 4 }]), 20),
);
Eval("tla", { data: rows, task: (x: number) => x * 2, scores: [function doubled({ output, expected }: any) { return output === expected; }] });
`,
    });
    const result = await runCli(["--jsonl"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(summaryOf(result.stdout, "tla").scores.doubled?.score).toBe(1);
  });

  it("loads packages from the project's node_modules and reports one that is not installed", async () => {
    const dir = project({
      "node_modules/tiny-upper/package.json": JSON.stringify({
        name: "tiny-upper",
        type: "module",
        exports: "./index.js",
      }),
      "node_modules/tiny-upper/index.js": "export const upper = (s) => s.toUpperCase();\n",
      "evals/pkg.eval.ts": `import { Eval } from "evalrun";
import { upper } from "tiny-upper";
Eval("pkg", { data: [{ input: "a", expected: "A" }], task: (x: string) => upper(x), scores: [function ok({ output, expected }: any) { return output === expected; }] });
`,
      "evals/missing.eval.ts": `import { Eval } from "evalrun";\nimport OpenAI from "openai/client";\nEval("missing", { data: [], task: () => new OpenAI(), scores: [] });\n`,
      "evals/ported.eval.ts": `import { Eval } from "evalrun";\nimport { Levenshtein } from "autoevals";\nEval("ported", { data: [], task: (x: string) => x, scores: [Levenshtein] });\n`,
    });
    const result = await runCli(["--jsonl"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(summaryOf(result.stdout, "pkg").scores.ok?.score).toBe(1);
    expect(result.stderr).toContain(
      `${path.join("evals", "missing.eval.ts")}:2:20 [COMPILE] Compile error: Could not resolve "openai/client"`,
    );
    // The package, not the path into it.
    expect(result.stderr).toContain("Install the package (npm i openai) or fix the import path");
    // An import a port from autoevals missed: evalrun exports the name.
    expect(result.stderr).toContain(
      'hint: evalrun has what "autoevals" gives an eval file (Eval, its scorers, its tracing calls): import them from "evalrun" instead.',
    );
  });

  it("reuses a compiled bundle only while the eval file and everything it imports are unchanged", async () => {
    const dir = project({
      "package.json": "{}",
      "lib/answer.ts": `export const answer = "one";\n`,
      "cache.eval.ts": `import { Eval } from "evalrun";
import { answer } from "./lib/answer";
Eval("cache", { data: [{ input: 1 }], task: () => answer, scores: [function isOne({ output }: any) { return output === "one"; }] });
`,
    });
    const first = await runCli(["--jsonl", "--no-store"], { cwd: dir });
    expect(summaryOf(first.stdout, "cache").scores.isOne?.score).toBe(1);
    const again = await runCli(["--jsonl", "--no-store"], { cwd: dir });
    expect(summaryOf(again.stdout, "cache").scores.isOne?.score).toBe(1);
    // Same length, different content: the cache must look past size.
    writeFileSync(path.join(dir, "lib/answer.ts"), `export const answer = "two";\n`);
    const changed = await runCli(["--jsonl", "--no-store"], { cwd: dir });
    expect(summaryOf(changed.stdout, "cache").scores.isOne?.score).toBe(0);
    writeFileSync(
      path.join(dir, "cache.eval.ts"),
      `import { Eval } from "evalrun";\nEval("cache", { data: [{ input: 1 }], task: () => "one", scores: [function isOne({ output }: any) { return output === "one"; }] });\n`,
    );
    const edited = await runCli(["--jsonl", "--no-store"], { cwd: dir });
    expect(summaryOf(edited.stdout, "cache").scores.isOne?.score).toBe(1);
  });

  it("--timeout overrides the eval's timeout", async () => {
    const dir = project({
      "slow.eval.ts": `import { Eval } from "evalrun";
Eval("slow", { data: [{ input: 1 }], task: async (x: number) => { await new Promise((r) => setTimeout(r, 400)); return x; }, scores: [() => 1], timeout: 5000 });
`,
    });
    const loose = await runCli(["--jsonl"], { cwd: dir });
    expect(summaryOf(loose.stdout, "slow").metrics.errors?.metric).toBe(0);
    const tight = await runCli(["--jsonl", "--timeout", "50", "--no-progress"], { cwd: dir });
    expect(tight.code).toBe(1);
    expect(summaryOf(tight.stdout, "slow").metrics.errors?.metric).toBe(1);
  });
});
