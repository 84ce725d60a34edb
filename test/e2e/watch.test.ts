import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { project, runCli } from "../helpers/cli.js";
import { childPids, IDLE, isAlive, ranIn, watchCli } from "../helpers/watch.js";

const PACKAGE = JSON.stringify({ name: "watched", type: "module" });

const routerEval = (name = "router") => `import { Eval } from "evalrun";
import { answer } from "../prompts/router.js";
Eval(${JSON.stringify(name)}, {
  data: [{ input: "billing", expected: "billing" }, { input: "refund", expected: "refund" }],
  task: (input: string) => answer(input),
  scores: [function Exact({ output, expected }) { return output === expected; }],
});
`;

const dataEval = `import { Eval, loadJsonl } from "evalrun";
Eval("datafile", {
  data: loadJsonl("data/rows.jsonl"),
  task: (input: string) => input.toUpperCase(),
  scores: [function Upper({ output, expected }) { return output === expected; }],
});
`;

const otherEval = (score: number) => `import { Eval } from "evalrun";
Eval("other", {
  data: [{ input: 1 }],
  task: (n: number) => n,
  scores: [function Fixed() { return ${score}; }],
});
`;

function watchedProject(): string {
  return project({
    "package.json": PACKAGE,
    "prompts/router.ts": `export const answer = (input: string) => (input === "billing" ? "billing" : "other");\n`,
    "prompts/unused.ts": "export const nothing = 1;\n",
    "data/rows.jsonl": '{"input":"a","expected":"A"}\n{"input":"b","expected":"B"}\n',
    "evals/router.eval.ts": routerEval(),
    "evals/data.eval.ts": dataEval,
    "evals/other.eval.ts": otherEval(1),
  });
}

/** Exits cleanly: the exit code, and no child process (the esbuild service) left behind. */
async function expectCleanExit(
  watch: ReturnType<typeof watchCli>,
  quit: () => void,
  code: number,
): Promise<void> {
  const pid = watch.child.pid as number;
  const children = childPids(pid);
  expect(children.length).toBeGreaterThan(0); // esbuild's service, started for the incremental builds
  quit();
  const exit = await watch.exited;
  expect(exit.code).toBe(code);
  expect(watch.output()).toContain("Stopped watching.");
  for (const child of children) expect(isAlive(child)).toBe(false);
}

describe("evalrun --watch", () => {
  it("re-runs exactly the evals that depend on a changed file, and nothing for an unrelated one", async () => {
    const dir = watchedProject();
    const watch = watchCli([], { cwd: dir });
    const first = await watch.waitFor(IDLE);
    expect(ranIn(first).sort()).toEqual(["datafile", "other", "router"]);
    expect(first).toMatch(/Exact\s+50\.0%/);

    // An imported module: only the eval importing it runs, and its score shows the change.
    let since = watch.mark();
    watch.write("prompts/router.ts", "export const answer = (input: string) => input;\n");
    let section = await watch.waitFor(IDLE, since);
    expect(section).toContain("» prompts/router.ts changed: re-running router");
    expect(ranIn(section)).toEqual(["router"]);
    expect(section).toMatch(/Exact\s+100\.0%\s+\+50\.0% vs previous/);

    // A data file read through loadJsonl.
    since = watch.mark();
    watch.write("data/rows.jsonl", '{"input":"a","expected":"A"}\n{"input":"b","expected":"b"}\n');
    section = await watch.waitFor(IDLE, since);
    expect(section).toContain("» data/rows.jsonl changed: re-running datafile");
    expect(ranIn(section)).toEqual(["datafile"]);
    expect(section).toMatch(/Upper\s+50\.0%\s+-50\.0% vs previous/);

    // The eval file itself.
    since = watch.mark();
    watch.write("evals/other.eval.ts", otherEval(0.5));
    section = await watch.waitFor(IDLE, since);
    expect(ranIn(section)).toEqual(["other"]);
    expect(section).toMatch(/Fixed\s+50\.0%\s+-50\.0% vs previous/);

    // An unrelated file, then (the same instant) a data file: one round, for the data file's eval only.
    since = watch.mark();
    watch.write("prompts/unused.ts", "export const nothing = 2;\n");
    watch.write("data/rows.jsonl", '{"input":"a","expected":"A"}\n{"input":"b","expected":"B"}\n');
    section = await watch.waitFor(IDLE, since);
    expect(ranIn(section)).toEqual(["datafile"]);
    expect(section.match(/^» /gm)).toHaveLength(1);
    expect(section).not.toContain("unused");

    // A new directory is watched from the round that sees it: an eval file written there later is found. That
    // round prints nothing to wait for; the pause lets it pass first (if it has not, the file is found anyway).
    mkdirSync(path.join(dir, "evals/sub"));
    await new Promise((resolve) => setTimeout(resolve, 400));
    since = watch.mark();
    watch.write("evals/sub/deep.eval.ts", otherEval(1).replace('"other"', '"deep"'));
    section = await watch.waitFor(IDLE, since);
    expect(section).toContain("evals/sub/deep.eval.ts was added: re-running");
    expect(ranIn(section)).toEqual(["deep"]);

    // A new eval file starts being watched; a deleted one stops.
    since = watch.mark();
    watch.write("evals/added.eval.ts", otherEval(1).replace('"other"', '"added"'));
    section = await watch.waitFor(IDLE, since);
    expect(section).toContain("evals/added.eval.ts was added: re-running");
    expect(ranIn(section)).toEqual(["added"]);
    since = watch.mark();
    watch.remove("evals/added.eval.ts");
    section = await watch.waitFor(IDLE, since);
    expect(section).toContain("evals/added.eval.ts was removed");
    expect(section).toContain("− added is gone");
    expect(ranIn(section)).toEqual([]);

    // A data file broken, then fixed with a change: the fixed run compares with the last run that had scores.
    since = watch.mark();
    watch.write("data/rows.jsonl", '{"input":"a","expected":"A"}\n{"input":\n');
    section = await watch.waitFor(IDLE, since);
    expect(section).toContain("BAD_DATA");
    since = watch.mark();
    watch.write("data/rows.jsonl", '{"input":"a","expected":"A"}\n{"input":"b","expected":"b"}\n');
    section = await watch.waitFor(IDLE, since);
    expect(section).toMatch(/Upper\s+50\.0%\s+-50\.0% vs previous/);

    await expectCleanExit(watch, () => watch.child.kill("SIGINT"), 130);
    // Every finished run was stored as a complete experiment.
    const history = await runCli(["experiments", "--json"], { cwd: dir });
    const experiments = JSON.parse(history.stdout) as Array<{ project: string; status: string }>;
    expect(experiments.filter((e) => e.project === "router").map((e) => e.status)).toEqual([
      "complete",
      "complete",
    ]);
  }, 90_000);

  it("shows bad input (compile, import, data and config errors, a renamed eval) and recovers on the next good save", async () => {
    const dir = watchedProject();
    const watch = watchCli(["evals/router.eval.ts", "evals/data.eval.ts"], { cwd: dir });
    await watch.waitFor(IDLE);

    // A syntax error in the eval file: file:line:col and a code frame; the next good save runs it again.
    let since = watch.mark();
    watch.write("evals/router.eval.ts", `${routerEval()}const broken = ;\n`);
    let section = await watch.waitFor(IDLE, since);
    expect(section).toMatch(/evals\/router\.eval\.ts:8:16 \[COMPILE\] Compile error: Unexpected ";"/);
    expect(section).toContain("const broken = ;");
    expect(ranIn(section)).toEqual([]);
    since = watch.mark();
    watch.write("evals/router.eval.ts", routerEval());
    section = await watch.waitFor(IDLE, since);
    expect(ranIn(section)).toEqual(["router"]);

    // A syntax error in an imported module is reported at its own line.
    since = watch.mark();
    watch.write("prompts/router.ts", "export const answer = (input: string) => {\n");
    section = await watch.waitFor(IDLE, since);
    expect(section).toMatch(/prompts\/router\.ts:2:\d+ \[COMPILE\]/);
    since = watch.mark();
    watch.write("prompts/router.ts", "export const answer = (input: string) => input;\n");
    section = await watch.waitFor(IDLE, since);
    expect(ranIn(section)).toEqual(["router"]);

    // A file that throws while being imported.
    since = watch.mark();
    watch.write(
      "evals/router.eval.ts",
      routerEval().replace("Eval(", 'throw new Error("boom at import");\nEval('),
    );
    section = await watch.waitFor(IDLE, since);
    expect(section).toMatch(/evals\/router\.eval\.ts:3:\d+ \[LOAD\] Failed to load: Error: boom at import/);
    expect(ranIn(section)).toEqual([]);

    // Renamed while watching: the old name goes, the new one runs.
    since = watch.mark();
    watch.write("evals/router.eval.ts", routerEval("router-v2"));
    section = await watch.waitFor(IDLE, since);
    expect(section).toContain("− router is no longer defined in evals/router.eval.ts");
    expect(ranIn(section)).toEqual(["router-v2"]);

    // A data file that becomes malformed: the eval says which file and line; fixing it recovers.
    since = watch.mark();
    watch.write("data/rows.jsonl", '{"input":"a","expected":"A"}\n{"input":"b"\n');
    section = await watch.waitFor(IDLE, since);
    expect(ranIn(section)).toEqual(["datafile"]);
    expect(section).toMatch(/✘ datafile/);
    expect(section).toContain("[BAD_DATA]");
    expect(section).toContain("data/rows.jsonl:2:13: line 2 is not valid JSON");
    since = watch.mark();
    watch.write("data/rows.jsonl", '{"input":"a","expected":"A"}\n');
    section = await watch.waitFor(IDLE, since);
    expect(section).toMatch(/✔ datafile/);

    // A config file that appears invalid: said, nothing runs; once valid, everything restarts.
    since = watch.mark();
    watch.write("evalrun.config.ts", 'export default { exclud: ["x"] };\n');
    section = await watch.waitFor(IDLE, since);
    expect(section).toContain("evalrun.config.ts changed: restarting");
    expect(section).toMatch(
      /\[CONFIG\] The config file evalrun\.config\.ts is invalid: unknown key "exclud" \(did you mean "exclude"\?\)/,
    );
    expect(ranIn(section)).toEqual([]);
    since = watch.mark();
    watch.write("evalrun.config.ts", 'export default { exclude: ["x"] };\n');
    section = await watch.waitFor(IDLE, since);
    expect(ranIn(section).sort()).toEqual(["datafile", "router-v2"]);

    await expectCleanExit(watch, () => watch.child.kill("SIGINT"), 130);
  }, 120_000);

  it("aborts a run through its rows' signals when a change arrives, and runs it again", async () => {
    const dir = project({
      "package.json": PACKAGE,
      "prompts/version.ts": 'export const VERSION = "v1";\n',
      "evals/slow.eval.ts": `import { Eval } from "evalrun";
import { VERSION } from "../prompts/version.js";
Eval("slow", {
  data: Array.from({ length: 30 }, (_, i) => ({ input: i })),
  task: (i: number, { signal }) =>
    new Promise((resolve, reject) => {
      if (i === 2) console.log(\`ROW-STARTED \${VERSION}\`);
      const timer = setTimeout(() => resolve(i), 100);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        console.log(\`ROW-ABORTED \${VERSION}\`);
        reject(signal.reason);
      });
    }),
  scores: [function done() { return 1; }],
  maxConcurrency: 2,
});
`,
    });
    const watch = watchCli([], { cwd: dir });
    await watch.waitFor("ROW-STARTED v1", 0, 30_000);
    const since = watch.mark();
    watch.write("prompts/version.ts", 'export const VERSION = "v2";\n');
    const section = await watch.waitFor(IDLE, since, 30_000);
    expect(section).toContain("■ slow interrupted: a change arrived while it ran");
    expect(section).toContain("ROW-ABORTED v1");
    expect(section).toContain("ROW-STARTED v2");
    // Nothing of the aborted run is shown as a result: one block, for the run that finished.
    expect(ranIn(watch.output())).toEqual(["slow"]);
    expect(section).toMatch(/✔ slow .* 30 rows · 0 errors/);
    await expectCleanExit(watch, () => watch.child.kill("SIGINT"), 130);
    const history = await runCli(["experiments", "--json"], { cwd: dir });
    const statuses = (JSON.parse(history.stdout) as Array<{ status: string }>).map((e) => e.status);
    expect(statuses).toEqual(["complete", "interrupted"]);
  }, 90_000);

  it("restarts an eval whose data never comes when a change arrives, and quits while a file's load hangs", async () => {
    const waiting = (ms: number) => `import { Eval } from "evalrun";
Eval("waiting", {
  data: () => new Promise((resolve) => setTimeout(() => resolve([{ input: 1 }]), ${ms})),
  task: (x: number) => x,
  scores: [function done() { return 1; }],
});
`;
    const dir = project({ "package.json": PACKAGE, "evals/waiting.eval.ts": waiting(600_000) });
    const watch = watchCli([], { cwd: dir });
    await watch.waitFor("running every eval", 0, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    const since = watch.mark();
    watch.write("evals/waiting.eval.ts", waiting(10));
    const section = await watch.waitFor(IDLE, since, 15_000);
    expect(section).toContain("■ waiting interrupted: a change arrived while it ran");
    expect(section).toMatch(/✔ waiting .* 1 row · 0 errors/);
    watch.child.kill("SIGTERM");
    expect((await watch.exited).code).toBe(143);

    // A top-level await that never ends keeps the first cycle from finishing; q still quits.
    const stuck = project({
      "package.json": PACKAGE,
      "evals/stuck.eval.ts": "await new Promise(() => setInterval(() => {}, 1000));\nexport {};\n",
    });
    const hung = watchCli([], { cwd: stuck, keys: true });
    await hung.waitFor("running every eval", 0, 30_000);
    hung.press("q");
    expect((await hung.exited).code).toBe(0);
    expect(hung.output()).toContain("Stopped watching.");
  }, 90_000);

  it("loads and re-runs the other files while one's top-level await never ends, and runs a slow one's evals late", async () => {
    const good = (n: number) =>
      `import { Eval } from "evalrun";\nEval("good", { data: [{ input: ${n} }], task: (x: number) => x, scores: [function one() { return 1; }] });\n`;
    const dir = project({
      "package.json": PACKAGE,
      "evals/a-stuck.eval.ts": `import { Eval } from "evalrun";
await new Promise(() => setInterval(() => {}, 1000));
Eval("never", { data: [{ input: 1 }], task: (x: number) => x, scores: [function one() { return 1; }] });
`,
      "evals/b-late.eval.ts": `import { Eval } from "evalrun";
await new Promise((resolve) => setTimeout(resolve, 4500));
Eval("late", { data: [{ input: 1 }], task: (x: number) => x, scores: [function one() { return 1; }] });
`,
      "evals/c-good.eval.ts": good(1),
    });
    const watch = watchCli([], { cwd: dir });
    const first = await watch.waitFor(/✔ late /, 0, 40_000);
    expect(first).toMatch(/a-stuck\.eval\.ts is still loading after 3 s/);
    expect(first).toMatch(/✔ good /);
    // The late file's evals ran as themselves, not as the file loading when its await resumed.
    expect(first).not.toContain("never");
    const since = watch.mark();
    watch.write("evals/c-good.eval.ts", good(2));
    const again = await watch.waitFor(/✔ good /, since, 20_000);
    expect(again).toContain("c-good.eval.ts changed: re-running good");
    watch.child.kill("SIGTERM");
    expect((await watch.exited).code).toBe(143);
  }, 90_000);

  it("re-runs an eval whose async generator reads a data file when that file changes, and no other", async () => {
    const gen = (name: string, file: string) => `import { Eval, loadJsonl } from "evalrun";
Eval("${name}", {
  data: async function* () { for (const row of await loadJsonl("${file}")) yield row; },
  task: (x: number) => x,
  scores: [function done() { return 1; }],
});
`;
    const dir = project({
      "package.json": PACKAGE,
      "evals/one.eval.ts": gen("one", "d/one.jsonl"),
      "evals/two.eval.ts": gen("two", "d/two.jsonl"),
      "d/one.jsonl": '{"input":1}\n',
      "d/two.jsonl": '{"input":2}\n',
    });
    const watch = watchCli([], { cwd: dir });
    await watch.waitFor(IDLE, 0, 30_000);
    for (const [file, name] of [
      ["d/one.jsonl", "one"],
      ["d/two.jsonl", "two"],
    ] as const) {
      const since = watch.mark();
      watch.write(file, '{"input":1}\n{"input":2}\n');
      const section = await watch.waitFor(IDLE, since, 15_000);
      expect(section).toContain(`» ${file} changed: re-running ${name}\n`);
      expect(ranIn(section)).toEqual([name]);
      expect(section).toMatch(new RegExp(`✔ ${name} .* 2 rows · 0 errors`));
    }
    watch.child.kill("SIGTERM");
    expect((await watch.exited).code).toBe(143);
  }, 90_000);

  it("restarts when a module the config imports is fixed, after it broke the config", async () => {
    const dir = project({
      "package.json": PACKAGE,
      "evalrun.config.ts": 'import { PATHS } from "./cfg/paths.js";\nexport default { paths: PATHS };\n',
      "cfg/paths.ts": 'export const PATHS = ["evals"];\n',
      "evals/a.eval.ts": otherEval(1).replace('"other"', '"a"'),
    });
    const watch = watchCli([], { cwd: dir });
    await watch.waitFor(IDLE, 0, 30_000);
    let since = watch.mark();
    watch.write("cfg/paths.ts", "export const PATHS = [;\n");
    expect(await watch.waitFor(IDLE, since, 15_000)).toContain("does not compile");
    since = watch.mark();
    watch.write("cfg/paths.ts", 'export const PATHS = ["evals"];\n');
    const section = await watch.waitFor(IDLE, since, 15_000);
    expect(section).toContain("» cfg/paths.ts changed: restarting");
    expect(ranIn(section)).toEqual(["a"]);
    watch.child.kill("SIGTERM");
    expect((await watch.exited).code).toBe(143);
  }, 90_000);

  it("restarts when .env changes, and a changed value applies (not only a new one)", async () => {
    const dir = project({
      "package.json": PACKAGE,
      ".env": "MODE=plain\n",
      "evals/env.eval.ts": `import { Eval } from "evalrun";
Eval("env", { data: [{ input: 1 }], task: () => process.env.MODE, scores: [function IsUpper({ output }: { output: string }) { return output === "upper"; }] });
`,
    });
    const watch = watchCli([], { cwd: dir, env: { MODE: undefined } });
    expect(await watch.waitFor(IDLE, 0, 30_000)).toMatch(/IsUpper\s+0\.0%/);
    const since = watch.mark();
    watch.write(".env", "MODE=upper\n");
    const section = await watch.waitFor(IDLE, since, 15_000);
    expect(section).toContain("» .env changed: restarting");
    expect(section).toMatch(/IsUpper\s+100\.0%/);
    // A line commented out unsets what it set: the task no longer sees the old value.
    const again = watch.mark();
    watch.write(".env", "# MODE=upper\n");
    expect(await watch.waitFor(IDLE, again, 15_000)).toMatch(/IsUpper\s+0\.0%/);
    // A malformed .env is that file's problem, named so.
    const broken = watch.mark();
    watch.write(".env", "MODE=upper\nnot valid\n");
    expect(await watch.waitFor(IDLE, broken, 15_000)).toMatch(
      /✘ \.env \[ENV_FILE\] The env file \S+: line 2 is not KEY=value/,
    );
    // The terminal closed: stopped as SIGTERM stops it.
    watch.child.kill("SIGHUP");
    expect((await watch.exited).code).toBe(129);
    expect(watch.output().slice(broken)).toContain("Stopped watching.");
  }, 90_000);

  it("run from a subdirectory, switches to the project's .env when its own is deleted, and back when it is made again", async () => {
    const dir = project({
      "package.json": PACKAGE,
      ".env": "MODE=root\n",
      "evals/.env": "MODE=sub\n",
      "evals/env.eval.ts": `import { Eval } from "evalrun";
Eval("env", { data: [{ input: 1 }], task: () => process.env.MODE, scores: [function IsSub({ output }: { output: string }) { return output === "sub"; }, function IsRoot({ output }: { output: string }) { return output === "root"; }] });
`,
    });
    const watch = watchCli([], { cwd: path.join(dir, "evals"), env: { MODE: undefined } });
    expect(await watch.waitFor(IDLE, 0, 30_000)).toMatch(/IsSub\s+100\.0%/);
    const removed = watch.mark();
    watch.remove(".env");
    const root = await watch.waitFor(IDLE, removed, 15_000);
    expect(root).toMatch(/IsSub\s+0\.0%/);
    expect(root).toMatch(/IsRoot\s+100\.0%/);
    const made = watch.mark();
    watch.write(".env", "MODE=sub\n");
    const sub = await watch.waitFor(IDLE, made, 15_000);
    expect(sub).toMatch(/IsSub\s+100\.0%/);
    expect(sub).toMatch(/IsRoot\s+0\.0%/);
    watch.child.kill("SIGTERM");
    await watch.exited;
  }, 90_000);

  it("does not let f mix an eval's old passing rows into a run of changed code that is still going", async () => {
    const dir = project({
      "package.json": PACKAGE,
      "lib/ok.ts": "export const OK = [0, 1];\n",
      "evals/slow.eval.ts": `import { Eval } from "evalrun";
import { OK } from "../lib/ok.js";
Eval("slowf", {
  data: [0, 1, 2, 3].map((i) => ({ input: i, expected: i })),
  task: async (i: number) => { await new Promise((r) => setTimeout(r, 1500)); return OK.includes(i) ? i : -1; },
  scores: [function Same({ output, expected }: { output: number; expected: number }) { return output === expected; }],
});
`,
    });
    const watch = watchCli([], { cwd: dir, keys: true });
    expect(await watch.waitFor(IDLE, 0, 30_000)).toMatch(/Same\s+50\.0%/);
    const since = watch.mark();
    watch.write("lib/ok.ts", "export const OK: number[] = [];\n");
    await watch.waitFor("re-running slowf", since, 15_000);
    watch.press("f");
    const section = await watch.waitFor(IDLE, since, 30_000);
    expect(section).toContain("f: slowf is running; press f again once done");
    expect(section).toMatch(/Same\s+0\.0%\s+-50\.0% vs previous/);
    watch.child.kill("SIGTERM");
    expect((await watch.exited).code).toBe(143);
  }, 90_000);

  it("reads r, f and q from the keyboard (a pipe when EVALRUN_WATCH_KEYS=1)", async () => {
    const dir = project({
      "package.json": PACKAGE,
      "evals/mixed.eval.ts": `import { Eval } from "evalrun";
Eval("mixed", {
  data: [1, 2, 3, 4].map((n) => ({ input: n })),
  task: (n: number) => n,
  scores: [function Even({ output }) { return output % 2 === 0; }],
});
`,
      "evals/clean.eval.ts": otherEval(1).replace('"other"', '"clean"'),
    });
    const watch = watchCli([], { cwd: dir, keys: true });
    await watch.waitFor(`${IDLE} (r re-run all · f re-run failing rows · q quit)`);

    // f: only the two results that scored 0 run again; the new experiment keeps the other two.
    let since = watch.mark();
    watch.press("f");
    let section = await watch.waitFor(IDLE, since);
    expect(section).toContain("f: re-running the failing results of mixed (2)");
    expect(ranIn(section)).toEqual(["mixed"]);
    expect(section).toMatch(/✘? ?mixed .*4 rows · 0 errors · .* · 2 failing results re-run/);
    expect(section).toMatch(/Even\s+50\.0%\s+±0\.0% vs previous/);

    since = watch.mark();
    watch.press("r");
    section = await watch.waitFor(IDLE, since);
    expect(ranIn(section).sort()).toEqual(["clean", "mixed"]);

    await expectCleanExit(watch, () => watch.press("q"), 0);
  }, 90_000);

  it("re-runs nothing for a save that changed nothing, and says so", async () => {
    const dir = watchedProject();
    // Files as a session meets them, saved a while before it starts (one saved just before may count as changed).
    const minuteAgo = new Date(Date.now() - 60_000);
    for (const file of ["prompts/router.ts", "evals/router.eval.ts", "evals/other.eval.ts"])
      utimesSync(path.join(dir, file), minuteAgo, minuteAgo);
    const watch = watchCli(["evals/router.eval.ts", "evals/other.eval.ts", "evals/data.eval.ts"], {
      cwd: dir,
      keys: true,
    });
    await watch.waitFor(IDLE);
    const router = readFileSync(path.join(dir, "prompts/router.ts"), "utf8");
    const rows = readFileSync(path.join(dir, "data/rows.jsonl"), "utf8");

    // An editor saving an unmodified buffer: the imported module, then the eval file, as they were at start-up.
    let since = watch.mark();
    watch.write("prompts/router.ts", router);
    let section = await watch.waitFor(IDLE, since);
    expect(section).toContain(
      "» prompts/router.ts saved without changes: nothing re-run (r re-runs every eval)",
    );
    expect(ranIn(section)).toEqual([]);
    since = watch.mark();
    watch.write("evals/other.eval.ts", otherEval(1));
    section = await watch.waitFor(IDLE, since);
    expect(section).toContain("evals/other.eval.ts saved without changes");
    expect(ranIn(section)).toEqual([]);
    // A data file is not compared (an eval file's evals read it at different times): its save re-runs.
    since = watch.mark();
    watch.write("data/rows.jsonl", rows);
    section = await watch.waitFor(IDLE, since);
    expect(section).toContain("» data/rows.jsonl changed: re-running datafile");
    expect(ranIn(section)).toEqual(["datafile"]);

    // A change runs; saving the changed file again does not; changing it back runs again.
    since = watch.mark();
    watch.write("prompts/router.ts", "export const answer = (input: string) => input;\n");
    section = await watch.waitFor(IDLE, since);
    expect(ranIn(section)).toEqual(["router"]);
    since = watch.mark();
    watch.write("prompts/router.ts", "export const answer = (input: string) => input;\n");
    section = await watch.waitFor(IDLE, since);
    expect(ranIn(section)).toEqual([]);
    since = watch.mark();
    watch.write("prompts/router.ts", router);
    section = await watch.waitFor(IDLE, since);
    expect(section).toContain("» prompts/router.ts changed: re-running router");
    expect(ranIn(section)).toEqual(["router"]);
    expect(section).toMatch(/Exact\s+50\.0%/);

    // r still re-runs everything.
    since = watch.mark();
    watch.press("r");
    section = await watch.waitFor(IDLE, since);
    expect(ranIn(section).sort()).toEqual(["datafile", "other", "router"]);

    // A save made while its directory was not watched (no eval imported the module then) goes unseen; saving the
    // module back to what was remembered of it must still re-run, or the run would be of the unseen content.
    since = watch.mark();
    watch.write("evals/router.eval.ts", otherEval(1).replace('"other"', '"router"'));
    await watch.waitFor(IDLE, since);
    watch.write("prompts/router.ts", "export const answer = (input: string) => input;\n");
    await new Promise((resolve) => setTimeout(resolve, 300));
    since = watch.mark();
    watch.write("evals/router.eval.ts", routerEval());
    section = await watch.waitFor(IDLE, since);
    expect(section).toMatch(/Exact\s+100\.0%/);
    since = watch.mark();
    watch.write("prompts/router.ts", router);
    section = await watch.waitFor(IDLE, since);
    expect(section).toContain("» prompts/router.ts changed: re-running router");
    expect(section).toMatch(/Exact\s+50\.0%/);
    await expectCleanExit(watch, () => watch.press("q"), 0);
  }, 60_000);

  it("re-runs an eval file with a problem on any save, unchanged or not: the save may be its user's retry", async () => {
    const dir = project({
      "package.json": PACKAGE,
      // Fails to load until a file outside the eval exists (a server that was down, a download not there yet).
      "evals/server.eval.ts": `import { Eval } from "evalrun";
import { existsSync } from "node:fs";
if (!existsSync("ready")) throw new Error("model server not up yet");
Eval("server", { data: [{ input: 1 }], task: (n: number) => n, scores: [function One() { return 1; }] });
`,
    });
    const minuteAgo = new Date(Date.now() - 60_000);
    utimesSync(path.join(dir, "evals/server.eval.ts"), minuteAgo, minuteAgo);
    const watch = watchCli(["evals"], { cwd: dir });
    const first = await watch.waitFor(IDLE);
    expect(first).toContain("model server not up yet");
    writeFileSync(path.join(dir, "ready"), "");
    const since = watch.mark();
    watch.write("evals/server.eval.ts", readFileSync(path.join(dir, "evals/server.eval.ts"), "utf8"));
    const section = await watch.waitFor(IDLE, since);
    expect(section).not.toContain("saved without changes");
    expect(ranIn(section)).toEqual(["server"]);
    await expectCleanExit(watch, () => watch.child.kill("SIGINT"), 130);
  }, 60_000);

  it("runs once for a save that fires several events", async () => {
    const dir = watchedProject();
    const watch = watchCli(["evals/router.eval.ts", "evals/other.eval.ts"], { cwd: dir });
    await watch.waitFor(IDLE);
    const since = watch.mark();
    // Truncate, then write in pieces: each step is an event of its own.
    const file = path.join(dir, "prompts/router.ts");
    const { closeSync, openSync, writeSync, fsyncSync } = await import("node:fs");
    const fd = openSync(file, "w");
    writeSync(fd, "export const answer = ");
    fsyncSync(fd);
    writeSync(fd, "(input: string) => ");
    writeSync(fd, "input;\n");
    closeSync(fd);
    await watch.waitFor(IDLE, since);
    // Then another file: a late round for the first save would show up before this one ends.
    watch.write("evals/other.eval.ts", otherEval(0));
    await watch.waitFor(IDLE, watch.mark());
    const section = watch.output().slice(since);
    expect(ranIn(section)).toEqual(["router", "other"]);
    expect(section.match(/^» /gm)).toHaveLength(2);
    expect(readFileSync(file, "utf8")).toContain("input;");
    expect(existsSync(path.join(dir, ".evalrun"))).toBe(true);
    await expectCleanExit(watch, () => watch.child.kill("SIGINT"), 130);
  }, 60_000);
});
