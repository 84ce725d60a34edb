import { spawnSync } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { type CliResult, project, ROOT, runCli, summaryOf } from "../helpers/cli.js";
import { experiments, type StoredRow, snapshot, storedRows, withStore } from "../helpers/store.js";

const HEADER = `import { Eval } from "evalrun";\n`;

// Where the store goes is what these tests check: a store named by the environment running them must not leak in.
beforeAll(() => {
  delete process.env.EVALRUN_STORE;
});
const PACKAGE = JSON.stringify({ name: "app", private: true, type: "module" });

/** The default store of a project. */
const storeOf = (dir: string) => path.join(dir, ".evalrun", "evalrun.db");

/** JSON with object keys sorted at every depth: what the row key hashes. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The row key of a data row without an `id`, computed independently of evalrun (README: row keys). */
const hashKey = (input: unknown) =>
  `h:${createHash("sha1")
    .update(typeof input === "string" ? `\u0000${input}` : canonical(input))
    .digest("hex")
    .slice(0, 16)}`;

const pairs = (rows: StoredRow[]) => rows.map((r) => `${r.row_key}#${r.trial_index}`);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const byNumber = (a: number, b: number) => a - b;

/** `<row> <epoch ms>` lines appended by the fixtures' scorers. */
function logLines(file: string): Array<{ row: number; at: number }> {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => /^\d+ \d+$/.test(line))
    .map((line) => {
      const [row, at] = line.split(" ").map(Number);
      return { row: row as number, at: at as number };
    });
}

async function waitForLines(file: string, count: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (logLines(file).length < count) {
    if (Date.now() > until) throw new Error(`${file} did not reach ${count} lines in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * 200 rows, each task sleeping 30 ms, 4 at a time (about 1.5 s in all); the scorer logs `<row> <Date.now()>` once
 * it has scored the row, so a test can tell which rows had finished when it killed the run.
 */
const SLOW_EVAL = `${HEADER}
import { appendFileSync } from "node:fs";
Eval("slow", {
  data: Array.from({ length: 200 }, (_, i) => ({ input: i })),
  task: async (i: number) => {
    await new Promise((r) => setTimeout(r, 30));
    return i;
  },
  scores: [
    function finished({ input }: { input: number }) {
      const score = 1;
      appendFileSync(process.env.SCORE_LOG!, input + " " + Date.now() + "\\n");
      return score;
    },
  ],
  maxConcurrency: 4,
});
`;

/** Starts the slow eval and sends `signal` once `lines` rows have been scored; resolves with the run and when. */
async function interruptSlowRun(
  dir: string,
  log: string,
  signal: NodeJS.Signals,
  lines: number,
  args: string[] = [],
): Promise<{ result: CliResult; sentAt: number; pid: number }> {
  let sentAt = 0;
  let pid = 0;
  const result = await runCli(["--no-progress", ...args], {
    cwd: dir,
    env: { SCORE_LOG: log },
    onSpawn: (child) => {
      pid = child.pid ?? 0;
      waitForLines(log, lines, 15_000).then(
        () => {
          sentAt = Date.now();
          child.kill(signal);
        },
        () => undefined, // the run then finishes on its own and the test's exit assertions fail
      );
    },
  });
  return { result, sentAt, pid };
}

describe("the store", () => {
  it("records each run as an experiment with one row per row × trial, in .evalrun/ at the project root", async () => {
    const dir = project({
      "package.json": PACKAGE,
      "evals/basic.eval.ts": `${HEADER}
Eval("basic", {
  data: [
    { input: "hello", expected: "HELLO" },
    { input: { b: 1, a: [2] }, expected: "X" },
    { id: "x", input: "world", expected: "nope" },
  ],
  task: (input: unknown) => (typeof input === "string" ? input.toUpperCase() : "X"),
  scores: [function exact({ output, expected }: any) { return output === expected; }],
  trialCount: 2,
});
`,
    });
    // Run from a subdirectory: the store belongs to the project (the directory with package.json).
    const result = await runCli(["--jsonl"], {
      cwd: path.join(dir, "evals"),
      env: { EVALRUN_STORE: undefined },
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const summary = summaryOf(result.stdout, "basic");

    const db = storeOf(dir);
    expect(existsSync(db)).toBe(true);
    expect(existsSync(path.join(dir, "evals", ".evalrun"))).toBe(false);
    // The store stays out of commits without the user touching their .gitignore.
    expect(readFileSync(path.join(dir, ".evalrun", ".gitignore"), "utf8").trim()).toBe("*");

    const [exp, ...others] = experiments(db);
    expect(others).toEqual([]);
    if (!exp) throw new Error("no experiment stored");
    expect(exp.project).toBe("basic");
    expect(exp.status).toBe("complete");
    expect(exp.name).toBe(summary.experiment_name);
    // Not a git repository: the default name is a UTC timestamp.
    expect(exp.name).toMatch(/^\d{8}-\d{6}$/);
    expect(exp.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(exp.file).toBe(path.join("evals", "basic.eval.ts"));
    expect(exp.trial_count).toBe(2);
    expect(exp.finished).not.toBeNull();
    expect(exp.owner_pid).toBeNull();
    expect(JSON.parse(exp.summary ?? "null")).toEqual(summary);

    const rows = storedRows(db, exp.seq);
    expect(rows).toHaveLength(6);
    const seen = rows
      .map((r) => ({
        key: r.row_key,
        row: r.row_index,
        trial: r.trial_index,
        errored: r.errored,
        scores: JSON.parse(r.scores),
      }))
      .sort((a, b) => a.row - b.row || a.trial - b.trial);
    expect(seen).toEqual([
      { key: hashKey("hello"), row: 0, trial: 0, errored: 0, scores: { exact: 1 } },
      { key: hashKey("hello"), row: 0, trial: 1, errored: 0, scores: { exact: 1 } },
      { key: hashKey({ a: [2], b: 1 }), row: 1, trial: 0, errored: 0, scores: { exact: 1 } },
      { key: hashKey({ a: [2], b: 1 }), row: 1, trial: 1, errored: 0, scores: { exact: 1 } },
      { key: "id:x", row: 2, trial: 0, errored: 0, scores: { exact: 0 } },
      { key: "id:x", row: 2, trial: 1, errored: 0, scores: { exact: 0 } },
    ]);
    expect(hashKey({ b: 1, a: [2] })).toMatch(/^h:[0-9a-f]{16}$/);
    const event = JSON.parse(rows.find((r) => r.row_key === "id:x")?.event ?? "{}") as Record<
      string,
      unknown
    >;
    expect(event.input).toBe("world");
    expect(event.output).toBe("WORLD");
    expect(new Set(rows.map((r) => r.id)).size).toBe(6);
  });

  it("goes where --store, EVALRUN_STORE or the config say, and nowhere with --no-store", async () => {
    const files = {
      "package.json": PACKAGE,
      "one.eval.ts": `${HEADER}Eval("one", { data: [{ input: 1 }, { input: 2 }], task: (x: number) => x, scores: [function s() { return 1; }] });\n`,
    };
    const env = { EVALRUN_STORE: undefined };

    const flag = project(files);
    const byFlag = await runCli(["--jsonl", "--store", "data/runs.db"], { cwd: flag, env });
    expect(byFlag.code).toBe(0);
    expect(experiments(path.join(flag, "data", "runs.db")).map((e) => e.project)).toEqual(["one"]);
    expect(existsSync(path.join(flag, ".evalrun"))).toBe(false);

    const fromEnv = project(files);
    const elsewhere = path.join(project({}), "nested", "env.db");
    const byEnv = await runCli(["--jsonl"], { cwd: fromEnv, env: { EVALRUN_STORE: elsewhere } });
    expect(byEnv.code).toBe(0);
    expect(storedRows(elsewhere)).toHaveLength(2);
    expect(existsSync(path.join(fromEnv, ".evalrun"))).toBe(false);
    // --store wins over EVALRUN_STORE.
    const both = await runCli(["--jsonl", "--store", "flag.db"], {
      cwd: fromEnv,
      env: { EVALRUN_STORE: elsewhere },
    });
    expect(both.code).toBe(0);
    expect(experiments(path.join(fromEnv, "flag.db"))).toHaveLength(1);
    expect(experiments(elsewhere)).toHaveLength(1);

    const config = project({
      ...files,
      "evalrun.config.ts": `export default { store: "db/from-config.db" };\n`,
    });
    const byConfig = await runCli(["--jsonl"], { cwd: config, env });
    expect(byConfig.stderr).toBe("");
    expect(experiments(path.join(config, "db", "from-config.db"))).toHaveLength(1);

    const none = project(files);
    const before = readdirSync(none).sort();
    const noStore = await runCli(["--jsonl", "--no-store"], { cwd: none, env });
    expect(noStore.code).toBe(0);
    expect(summaryOf(noStore.stdout, "one").metrics.rows?.metric).toBe(2);
    expect(readdirSync(none).sort()).toEqual(before);
    // Not even when EVALRUN_STORE points somewhere.
    const envTarget = path.join(none, "env.db");
    const noStoreEnv = await runCli(["--no-store"], { cwd: none, env: { EVALRUN_STORE: envTarget } });
    expect(noStoreEnv.code).toBe(0);
    expect(noStoreEnv.stdout).not.toContain("experiments stored in");
    expect(readdirSync(none).sort()).toEqual(before);
  });

  it("uses experimentName as given, suffixing -2 when the eval already has an experiment of that name", async () => {
    const dir = project({
      "named.eval.ts": `${HEADER}Eval("named", { data: [{ input: 1 }], task: (x: number) => x, scores: [function s() { return 1; }], experimentName: "release-1" });\n`,
    });
    const first = await runCli(["--jsonl"], { cwd: dir, env: { EVALRUN_STORE: undefined } });
    const second = await runCli(["--jsonl"], { cwd: dir, env: { EVALRUN_STORE: undefined } });
    expect(summaryOf(first.stdout, "named").experiment_name).toBe("release-1");
    expect(summaryOf(second.stdout, "named").experiment_name).toBe("release-1-2");
    expect(experiments(storeOf(dir)).map((e) => e.name)).toEqual(["release-1", "release-1-2"]);
  });
});

describe("interrupted runs", () => {
  it("keeps every finished row through a kill -9, and --resume completes that experiment with only the missing rows", async () => {
    const dir = project({ "package.json": PACKAGE, "slow.eval.ts": SLOW_EVAL });
    const log = path.join(dir, "scores.log");
    // 40 scored rows (of 200) before the kill, so that plenty of them are older than the 50 ms allowed below.
    const { result, sentAt, pid } = await interruptSlowRun(dir, log, "SIGKILL", 40);
    expect(result.signal).toBe("SIGKILL");

    const db = storeOf(dir);
    const [killed, ...others] = experiments(db);
    expect(others).toEqual([]);
    if (!killed) throw new Error("no experiment stored");
    // Nobody has opened the store since: it still says running, owned by the process that is gone.
    expect(killed.status).toBe("running");
    expect(killed.owner_pid).toBe(pid);
    expect(killed.owner_host).toBe(os.hostname());

    const stored = storedRows(db, killed.seq);
    const storedIndexes = new Set(stored.map((r) => r.row_index));
    const logged = logLines(log);
    // Rows are written in one transaction at the end of the event-loop turn they finish in, so a row scored in
    // the last few milliseconds before the kill may be lost; a row scored 50 ms or more before it may not.
    const settled = logged.filter((l) => l.at <= sentAt - 50);
    expect(settled.length).toBeGreaterThanOrEqual(20);
    expect(settled.filter((l) => !storedIndexes.has(l.row)).map((l) => l.row)).toEqual([]);
    // Nothing is stored that had not finished, and each (row, trial) once.
    const loggedIndexes = new Set(logged.map((l) => l.row));
    expect(stored.filter((r) => !loggedIndexes.has(r.row_index))).toEqual([]);
    expect(new Set(pairs(stored)).size).toBe(stored.length);
    expect(stored.length).toBeLessThan(200);
    // Listed with the rows it holds and their scores, though its run never wrote a summary.
    const listed = await runCli(["experiments"], { cwd: dir, env: { NO_COLOR: "1" } });
    expect(listed.stdout).toMatch(
      new RegExp(
        `^slow\\s+${killed.name}\\s.*\\s${stored.length}\\s+0\\s+interrupted\\s+finished 100\\.0%`,
        "m",
      ),
    );
    // Shown with the scores of the rows it holds, worked out from them.
    const shown = await runCli(["show", killed.name], { cwd: dir });
    expect(shown.stdout).toContain("scores of the rows stored (the run did not finish)");
    expect(shown.stdout).toMatch(new RegExp(`finished\\s+100\\.0%\\s+${stored.length} scored`));

    // --resume opens the store, sees the owner is dead, and continues that experiment.
    const linesBefore = logged.length;
    const resumed = await runCli(["--resume", "--jsonl"], { cwd: dir, env: { SCORE_LOG: log } });
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    const summary = summaryOf(resumed.stdout, "slow");
    expect(summary.metrics.rows?.metric).toBe(200);
    expect(summary.metrics.errors?.metric).toBe(0);
    expect(summary.scores.finished?.scored).toBe(200);
    expect(summary.experiment_name).toBe(killed.name);

    const [after, ...more] = experiments(db);
    expect(more).toEqual([]);
    expect(after?.id).toBe(killed.id);
    expect(after?.status).toBe("complete");
    expect(after?.owner_pid).toBeNull();
    expect(JSON.parse(after?.summary ?? "null")).toEqual(summary);
    const rows = storedRows(db, killed.seq);
    expect(rows).toHaveLength(200);
    expect(new Set(pairs(rows)).size).toBe(200);
    expect(rows.map((r) => r.row_index).sort(byNumber)).toEqual(range(200));
    // Only what the store lacked ran again.
    const ranAgain = logLines(log)
      .slice(linesBefore)
      .map((l) => l.row)
      .sort(byNumber);
    expect(ranAgain).toEqual(range(200).filter((i) => !storedIndexes.has(i)));
  });

  it("leaves a Ctrl-C'd experiment interrupted (exit 130); --resume completes it and skips evals with nothing to resume", async () => {
    const dir = project({
      "package.json": PACKAGE,
      "slow.eval.ts": SLOW_EVAL,
      "quick.eval.ts": `${HEADER}Eval("quick", { data: [{ input: 1 }, { input: 2 }], task: (x: number) => x, scores: [function s() { return 1; }] });\n`,
    });
    const log = path.join(dir, "scores.log");
    const { result } = await interruptSlowRun(dir, log, "SIGINT", 20);
    expect(result.code).toBe(130);
    expect(result.stdout).toContain("(interrupted)");

    const db = storeOf(dir);
    const first = experiments(db);
    const slow = first.find((e) => e.project === "slow");
    const quick = first.find((e) => e.project === "quick");
    expect(first).toHaveLength(2);
    expect(slow?.status).toBe("interrupted");
    expect(slow?.owner_pid).toBeNull();
    expect(quick?.status).toBe("complete");
    // A graceful stop lets rows in flight finish and writes every row that finished.
    const stored = storedRows(db, slow?.seq);
    const logged = logLines(log);
    expect(stored.map((r) => r.row_index).sort(byNumber)).toEqual(logged.map((l) => l.row).sort(byNumber));
    expect(stored.length).toBeGreaterThanOrEqual(20);
    expect(stored.length).toBeLessThan(200);
    expect(JSON.parse(slow?.summary ?? "{}").metrics.rows.metric).toBe(stored.length);

    const resumed = await runCli(["--resume", "--no-progress"], { cwd: dir, env: { SCORE_LOG: log } });
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`experiment  ${slow?.name}`);
    expect(resumed.stdout).toContain("quick: skipped, nothing to resume");

    const after = experiments(db);
    expect(after).toHaveLength(2);
    const resumedSlow = after.find((e) => e.id === slow?.id);
    expect(resumedSlow?.status).toBe("complete");
    expect(JSON.parse(resumedSlow?.summary ?? "{}").metrics.rows.metric).toBe(200);
    expect(after.find((e) => e.id === quick?.id)).toEqual(quick);
    const rows = storedRows(db, slow?.seq);
    expect(rows).toHaveLength(200);
    expect(new Set(pairs(rows)).size).toBe(200);
    const ranAgain = logLines(log)
      .slice(logged.length)
      .map((l) => l.row)
      .sort(byNumber);
    const had = new Set(stored.map((r) => r.row_index));
    expect(ranAgain).toEqual(range(200).filter((i) => !had.has(i)));
  });

  it("--resume refuses code changed since the interruption, and resumes past a changed comment", async () => {
    // The usual story: Ctrl-C, fix the prompt, --resume. Two versions' rows would make one "complete" experiment.
    const dir = project({
      "package.json": PACKAGE,
      "slow.eval.ts": SLOW_EVAL,
      "prompt.ts": 'export const P = "v1";\n',
    });
    const eval_ = path.join(dir, "slow.eval.ts");
    writeFileSync(
      eval_,
      SLOW_EVAL.replace("return i;", "return P + i;").replace(
        HEADER,
        `${HEADER}import { P } from "./prompt";\n`,
      ),
    );
    const log = path.join(dir, "scores.log");
    expect((await interruptSlowRun(dir, log, "SIGINT", 20)).result.code).toBe(130);
    writeFileSync(path.join(dir, "prompt.ts"), 'export const P = "v2";\n');
    const refused = await runCli(["--resume", "--no-progress"], { cwd: dir, env: { SCORE_LOG: log } });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('Eval "slow": its code has changed since its experiment');
    expect(refused.stderr).toContain("(slow.eval.ts or a module it imports)");
    expect(experiments(storeOf(dir)).map((e) => e.status)).toEqual(["interrupted"]);
    // Back to v1, with a comment, in a project moved elsewhere (its bundle names other paths): the code is the same.
    writeFileSync(path.join(dir, "prompt.ts"), '// the first prompt\nexport const P = "v1";\n');
    const moved = `${dir}-moved`;
    cpSync(dir, moved, { recursive: true });
    try {
      const resumed = await runCli(["--resume", "--no-progress"], { cwd: moved, env: { SCORE_LOG: log } });
      expect(resumed.code).toBe(0);
      expect(experiments(storeOf(moved)).map((e) => e.status)).toEqual(["complete"]);
    } finally {
      rmSync(moved, { recursive: true, force: true });
    }
  });

  it("--resume says it cannot check the code of a run interrupted under an evalrun that recorded none", async () => {
    const dir = project({ "package.json": PACKAGE, "slow.eval.ts": SLOW_EVAL });
    const log = path.join(dir, "scores.log");
    expect((await interruptSlowRun(dir, log, "SIGINT", 20)).result.code).toBe(130);
    const db = new Database(storeOf(dir));
    db.prepare("UPDATE experiments SET code = NULL").run();
    db.close();
    const resumed = await runCli(["--resume", "--no-progress"], { cwd: dir, env: { SCORE_LOG: log } });
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(
      "which recorded no digest of its code, so the resume could not check it",
    );
  });

  it("--resume continues with the interrupted run's trials and only with its selection of rows", async () => {
    const dir = project({ "package.json": PACKAGE, "slow.eval.ts": SLOW_EVAL });
    const log = path.join(dir, "scores.log");
    const { result: interrupted } = await interruptSlowRun(dir, log, "SIGINT", 20, [
      "--trials",
      "2",
      "--first",
      "60",
    ]);
    expect(interrupted.code).toBe(130);
    const db = storeOf(dir);
    const slow = experiments(db)[0];
    expect(slow?.selection).toBe("--first 60");
    expect(slow?.trial_count).toBe(2);

    const before = snapshot(db);
    const mixed = await runCli(["--resume", "--no-progress"], { cwd: dir, env: { SCORE_LOG: log } });
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain(
      `Eval "slow": its interrupted experiment ${slow?.name} ran \`--first 60\`, and this run selects every row`,
    );
    expect(mixed.stderr).toContain("evalrun --resume --first 60");
    expect(snapshot(db)).toEqual(before);

    // The eval's trialCount is 1 and no --trials is given: the experiment's 2 trials are what it lacks.
    const resumed = await runCli(["--resume", "--first", "60", "--no-progress"], {
      cwd: dir,
      env: { SCORE_LOG: log },
    });
    expect(resumed.code).toBe(0);
    // --first stops reading at its 60 rows, so the rows read times the trials are the experiment's results.
    expect(resumed.stdout).toContain("rows        120 (60 rows × 2 trials) · 0 errors");
    expect(resumed.stdout).toContain(
      "resumed with its interrupted experiment's 2 trial(s) per row, not the 1 that --trials or trialCount now say",
    );
    const rows = storedRows(db, slow?.seq);
    expect(rows).toHaveLength(120);
    expect(new Set(pairs(rows)).size).toBe(120);
    expect(experiments(db)[0]?.status).toBe("complete");
  });

  it("--resume's summary says how many errored rows were stored before it", async () => {
    const FLAKY = `${HEADER}
import { appendFileSync } from "node:fs";
Eval("flaky", {
  data: Array.from({ length: 60 }, (_, i) => ({ input: i })),
  task: async (i: number) => {
    await new Promise((r) => setTimeout(r, 20));
    appendFileSync(process.env.SCORE_LOG!, i + " " + Date.now() + "\\n");
    if (i < 10) throw new Error("early rows fail");
    return i;
  },
  scores: [function s() { return 1; }],
  maxConcurrency: 2,
});
`;
    const dir = project({ "package.json": PACKAGE, "flaky.eval.ts": FLAKY });
    const log = path.join(dir, "scores.log");
    // SIGTERM (a cancelled CI job) stops the run as Ctrl-C does: summary, stored rows, its own exit code.
    const { result: first } = await interruptSlowRun(dir, log, "SIGTERM", 20, [
      "--reporter",
      "default,json",
      "--outfile",
      "json=r.json",
    ]);
    expect(first.code).toBe(143);
    // The report says the code the process ends with.
    expect(JSON.parse(readFileSync(path.join(dir, "r.json"), "utf8")).exit_code).toBe(143);
    expect(first.stdout).toContain("(interrupted)");
    expect(first.stderr).toContain("Stopping (SIGTERM)");
    const resumed = await runCli(["--resume", "--no-progress"], { cwd: dir, env: { SCORE_LOG: log } });
    expect(resumed.code).toBe(1);
    expect(resumed.stdout).toContain("rows        60 · 10 errors");
    expect(resumed.stdout).toMatch(
      /… and 10 errored rows stored before this run \(`evalrun show \S+` lists them\)/,
    );
  });

  it("never takes a partial run (--first, --shard, --filter) as a default baseline or a saved one", async () => {
    const dir = project({
      "package.json": PACKAGE,
      "q.eval.ts": `${HEADER}Eval("q", { data: [{ input: 1 }, { input: 2 }, { input: 3 }, { input: 4 }], task: (x: number) => x, scores: [function s() { return 1; }] });\n`,
    });
    const run = async (...flags: string[]) =>
      summaryOf((await runCli(["--jsonl", ...flags], { cwd: dir })).stdout, "q");
    const first = await run("--first", "2");
    const full = await run();
    expect(full.comparison_experiment_name ?? null).toBeNull();
    const shard = await run("--shard", "1/2");
    expect(shard.comparison_experiment_name).toBe(full.experiment_name);
    await run("--filter", "input=1");
    const again = await run();
    expect(again.comparison_experiment_name).toBe(full.experiment_name);
    expect(first.experiment_name).not.toBe(full.experiment_name);
    await run("--first", "1");
    const saved = await runCli(["baseline", "save", "--json"], { cwd: dir });
    expect(saved.code).toBe(0);
    expect(saved.stdout).toContain(again.experiment_name);
  });

  it("keeps every finished row of a Ctrl-C'd long run, those the store's writer thread was writing too", async () => {
    const LONG = `${HEADER}import { writeFileSync } from "node:fs";
let n = 0;
setInterval(() => writeFileSync(process.env.PROGRESS as string, String(n)), 20).unref();
async function* rows() { for (let i = 0; i < 5_000_000; i++) yield { input: "row " + i }; }
Eval("long", { data: rows, task: (x: string) => { n++; return x; }, scores: [function s() { return 1; }] });
`;
    const dir = project({ "package.json": PACKAGE, "long.eval.ts": LONG });
    const progress = path.join(dir, "progress.txt");
    const seen = () => (existsSync(progress) ? Number(readFileSync(progress, "utf8") || 0) : 0);
    const result = await runCli(["--no-progress", "--workers", "0"], {
      cwd: dir,
      env: { PROGRESS: progress },
      timeoutMs: 60_000,
      onSpawn: (child) => {
        const poll = setInterval(() => {
          // Well past THREAD_AFTER, so that the thread has started and holds batches when the signal comes.
          if (seen() < 60_000) return;
          clearInterval(poll);
          child.kill("SIGINT");
        }, 10);
      },
    });
    expect(result.code).toBe(130);
    const [long] = experiments(storeOf(dir));
    expect(long?.status).toBe("interrupted");
    const finished = JSON.parse(long?.summary ?? "{}").metrics.rows.metric as number;
    expect(finished).toBeGreaterThanOrEqual(60_000);
    const indexes = withStore(storeOf(dir), (d) =>
      d
        .prepare(
          "SELECT count(*) AS n, count(DISTINCT row_index) AS distinct_rows, max(row_index) AS last FROM results",
        )
        .get(),
    );
    expect(indexes).toEqual({ n: finished, distinct_rows: finished, last: finished - 1 });
  });

  it("--resume with nothing to resume exits 2 and changes nothing", async () => {
    const dir = project({
      "package.json": PACKAGE,
      "done.eval.ts": `${HEADER}Eval("done", { data: [{ input: 1 }, { input: 2 }, { input: 3 }], task: (x: number) => x, scores: [function s() { return 1; }] });\n`,
    });
    const run = await runCli(["--jsonl"], { cwd: dir });
    expect(run.code).toBe(0);
    const db = storeOf(dir);
    const before = snapshot(db);
    expect(before.tables.experiments).toHaveLength(1);
    expect(before.tables.results).toHaveLength(3);

    const resumed = await runCli(["--resume", "--jsonl"], { cwd: dir });
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toContain("[RESUME] Nothing to resume");
    expect(resumed.stderr).toContain("done");
    expect(resumed.stdout).toBe("");
    expect(snapshot(db)).toEqual(before);
  });
});

/** 8 rows (ROWS), two trials; FAIL=1 fails row 2 and row 5's second trial; each task call is logged to TASK_LOG. */
const FLAKY = `${HEADER}
import { appendFileSync } from "node:fs";
Eval("flaky", {
  data: Array.from({ length: Number(process.env.ROWS ?? 8) }, (_, i) => ({ input: i })),
  task: (i: number, { trialIndex }: { trialIndex: number }) => {
    appendFileSync(process.env.TASK_LOG!, i + " " + trialIndex + "\\n");
    if (process.env.FAIL === "1" && (i === 2 || (i === 5 && trialIndex === 1))) throw new Error("flaky " + i);
    return i * 10;
  },
  scores: [function right({ input, output }: { input: number; output: number }) { return output === input * 10; }],
  trialCount: 2,
});
`;

describe("--retry-errors", () => {
  it("starts a new experiment from the last one's good rows and runs only the pairs that errored, or are new", async () => {
    const dir = project({ "package.json": PACKAGE, "flaky.eval.ts": FLAKY });
    const taskLog = path.join(dir, "tasks.log");
    const tasks = () => readFileSync(taskLog, "utf8").trim().split("\n").sort();

    const failing = await runCli(["--jsonl"], { cwd: dir, env: { TASK_LOG: taskLog, FAIL: "1" } });
    expect(failing.code).toBe(1);
    const failed = summaryOf(failing.stdout, "flaky");
    expect(failed.metrics.rows?.metric).toBe(16);
    expect(failed.metrics.errors?.metric).toBe(3);
    expect(tasks()).toHaveLength(16);
    rmSync(taskLog);

    // The data has gained a row since: it runs too, or the new experiment would be complete without it.
    const retried = await runCli(["--retry-errors", "--jsonl"], {
      cwd: dir,
      env: { TASK_LOG: taskLog, FAIL: undefined, ROWS: "9" },
    });
    expect(retried.stderr).toBe("");
    expect(retried.code).toBe(0);
    const summary = summaryOf(retried.stdout, "flaky");
    expect(summary.metrics.rows?.metric).toBe(18);
    expect(summary.metrics.errors?.metric).toBe(0);
    expect(summary.scores.right?.score).toBe(1);
    expect(summary.scores.right?.scored).toBe(18);
    // Row 2 failed in both trials, row 5 in its second only, row 8 is new: five tasks ran, no others.
    expect(tasks()).toEqual(["2 0", "2 1", "5 1", "8 0", "8 1"]);

    const db = storeOf(dir);
    const [old, fresh, ...others] = experiments(db);
    expect(others).toEqual([]);
    expect(fresh?.name).toBe(summary.experiment_name);
    expect(fresh?.name).not.toBe(old?.name);
    expect(fresh?.status).toBe("complete");
    const rows = storedRows(db, fresh?.seq);
    expect(rows).toHaveLength(18);
    expect(rows.filter((r) => r.errored)).toEqual([]);
    expect(new Set(pairs(rows)).size).toBe(18);
    for (const r of rows) expect(JSON.parse(r.event).output).toBe(r.row_index * 10);
    // The experiment retried from is left as it was.
    expect(storedRows(db, old?.seq).filter((r) => r.errored)).toHaveLength(3);
    expect(JSON.parse(old?.summary ?? "{}").metrics.errors.metric).toBe(3);

    // Nothing errored in the last experiment: nothing to retry, nothing runs.
    rmSync(taskLog);
    const again = await runCli(["--retry-errors", "--jsonl"], { cwd: dir, env: { TASK_LOG: taskLog } });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("Nothing to retry");
    expect(existsSync(taskLog)).toBe(false);
    expect(experiments(db)).toHaveLength(2);
  });
});

describe("--retry-errors repairs the run it starts from", () => {
  it("starts from the last run, not a committed baseline file read back since (a pull that changed it)", async () => {
    const dir = project({ "package.json": PACKAGE, "flaky.eval.ts": FLAKY });
    const taskLog = path.join(dir, "tasks.log");
    const env = { TASK_LOG: taskLog, FAIL: "1" };
    expect((await runCli(["--no-progress"], { cwd: dir, env })).code).toBe(1);
    expect((await runCli(["baseline", "save"], { cwd: dir })).code).toBe(0);
    // A teammate's re-save arrives by a pull: a changed file is read back as an experiment dated now.
    const file = path.join(dir, "__baselines__", "flaky.jsonl");
    const teammate = () =>
      writeFileSync(file, readFileSync(file, "utf8").replace(/"output":30\b/, '"output":-1'));
    teammate();
    expect((await runCli(["--no-progress"], { cwd: dir, env })).code).toBe(1);
    writeFileSync(file, readFileSync(file, "utf8").replace(/"output":-1\b/, '"output":-2'));
    rmSync(taskLog);
    const retried = await runCli(["--retry-errors", "--jsonl"], { cwd: dir, env: { TASK_LOG: taskLog } });
    expect(retried.code).toBe(0);
    expect(readFileSync(taskLog, "utf8").trim().split("\n").sort()).toEqual(["2 0", "2 1", "5 1"]);
    const db = storeOf(dir);
    const fresh = experiments(db).find((e) => e.name === summaryOf(retried.stdout, "flaky").experiment_name);
    const outputs = storedRows(db, fresh?.seq).map((r) => JSON.parse(r.event).output);
    expect(outputs.sort(byNumber)).toEqual(range(8).flatMap((i) => [i * 10, i * 10]));
    // Another pull, read back by a retry that finds nothing to retry: the newest experiment is that file's. prune
    // --keep 1 keeps the run all the same: files read back do not count as runs.
    writeFileSync(file, readFileSync(file, "utf8").replace(/"output":-2\b/, '"output":-3'));
    expect(
      (await runCli(["--retry-errors", "--no-progress"], { cwd: dir, env: { TASK_LOG: taskLog } })).code,
    ).toBe(2);
    expect(experiments(db).at(-1)?.source).toBe("import");
    const pruned = await runCli(["prune", "--keep", "1"], { cwd: dir });
    expect(pruned.code).toBe(0);
    expect(experiments(db).some((e) => e.seq === fresh?.seq)).toBe(true);
  });

  it("says so when the experiment with errors is an import (a CI artifact): it repairs runs made here", async () => {
    const ci = project({ "package.json": PACKAGE, "flaky.eval.ts": FLAKY });
    const taskLog = path.join(ci, "tasks.log");
    await runCli(["--no-progress"], { cwd: ci, env: { TASK_LOG: taskLog, FAIL: "1" } });
    const name = experiments(storeOf(ci))[0]?.name as string;
    const artifact = path.join(ci, "artifact.jsonl");
    writeFileSync(artifact, (await runCli(["export", name], { cwd: ci })).stdout);
    const local = project({ "package.json": PACKAGE, "flaky.eval.ts": FLAKY });
    expect((await runCli(["import", artifact], { cwd: local })).code).toBe(0);
    const retry = await runCli(["--retry-errors"], { cwd: local, env: { TASK_LOG: taskLog } });
    expect(retry.code).toBe(2);
    expect(retry.stderr).toContain(
      `flaky: no run of it was made here; ${name}, which has some, was imported, and --retry-errors repairs runs made here`,
    );
  });

  it("takes its run's selection and trials: another is refused, or (trials) set back with a note", async () => {
    const dir = project({ "package.json": PACKAGE, "flaky.eval.ts": FLAKY });
    const taskLog = path.join(dir, "tasks.log");
    expect(
      (await runCli(["--first", "6", "--no-progress"], { cwd: dir, env: { TASK_LOG: taskLog, FAIL: "1" } }))
        .code,
    ).toBe(1);
    // Rows --first left out never errored: a plain retry would run them.
    const plain = await runCli(["--retry-errors", "--no-progress"], { cwd: dir, env: { TASK_LOG: taskLog } });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain(
      "ran `--first 6`, and this run selects every row; a retry repairs the rows of that run",
    );
    expect(plain.stderr).toContain("hint: Retry with the same flags: evalrun --retry-errors --first 6");
    const fewer = await runCli(["--retry-errors", "--first", "3", "--no-progress"], {
      cwd: dir,
      env: { TASK_LOG: taskLog },
    });
    expect(fewer.code).toBe(2);
    rmSync(taskLog);
    const same = await runCli(["--retry-errors", "--first", "6", "--trials", "1", "--no-progress"], {
      cwd: dir,
      env: { TASK_LOG: taskLog },
    });
    expect(same.code).toBe(0);
    expect(same.stdout).toContain("retried with its last experiment's 2 trial(s) per row, not the 1");
    expect(same.stdout).toMatch(/rows\s+12 \(6 rows × 2 trials\) · 0 errors/);
    expect(readFileSync(taskLog, "utf8").trim().split("\n").sort()).toEqual(["2 0", "2 1", "5 1"]);
    const fresh = experiments(storeOf(dir)).at(-1);
    expect(storedRows(storeOf(dir), fresh?.seq)).toHaveLength(12);
    expect(fresh?.trial_count).toBe(2);
    expect(fresh?.selection).toBe("--first 6");
  });
});

describe("--retry-errors after a scorer failed", () => {
  it("scores the stored output again without running the task, keeping what the task set; a failed task runs again", async () => {
    const dir = project({
      "package.json": PACKAGE,
      "judged.eval.ts": `${HEADER}
import { appendFileSync } from "node:fs";
Eval("judged", {
  data: [0, 1, 2, 3].map((i) => ({ input: i })),
  task: (i: number, hooks: { metadata: Record<string, unknown>; tags: string[] }) => {
    appendFileSync(process.env.TASK_LOG!, i + "\\n");
    if (process.env.FAIL === "1" && i === 2) throw new Error("task down");
    hooks.metadata.model = "model-" + process.env.VERSION;
    hooks.tags.push("from-task");
    return "answer " + i + " " + process.env.VERSION;
  },
  scores: [
    function exact({ input, output }: { input: number; output: string }) { return output.startsWith("answer " + input); },
    function judge({ input, metadata }: { input: number; metadata: Record<string, unknown> }) {
      if (process.env.JUDGE_DOWN === "1" && input % 2 === 1) throw new Error("429 rate limited");
      return { name: "judge", score: 1, metadata: { saw: metadata.model } };
    },
  ],
  timeout: 10_000,
});
`,
    });
    const taskLog = path.join(dir, "tasks.log");
    const tasks = () => readFileSync(taskLog, "utf8").trim().split("\n").sort();
    const first = await runCli(["--jsonl"], {
      cwd: dir,
      env: { TASK_LOG: taskLog, FAIL: "1", JUDGE_DOWN: "1", VERSION: "v1" },
    });
    expect(first.code).toBe(1);
    expect(summaryOf(first.stdout, "judged").metrics.errors?.metric).toBe(3);
    rmSync(taskLog);

    // In worker threads (the eval has a timeout), as an LLM eval's retry would run.
    const retried = await runCli(["--retry-errors", "--no-progress"], {
      cwd: dir,
      env: { TASK_LOG: taskLog, FAIL: undefined, JUDGE_DOWN: undefined, VERSION: "v2" },
    });
    expect(retried.code).toBe(0);
    expect(retried.stdout).toContain(
      `Eval "judged": 2 errored rows' scorers ran again on the stored output, without running the task (only a scorer had failed); 1 other errored row ran whole.`,
    );
    // Only the row whose task failed ran its task again.
    expect(tasks()).toEqual(["2"]);
    const db = storeOf(dir);
    const [old, fresh] = experiments(db);
    const summary = JSON.parse(fresh?.summary ?? "{}");
    expect(summary.metrics.errors.metric).toBe(0);
    expect(summary.scores.judge.scored).toBe(4);
    const rows = storedRows(db, fresh?.seq)
      .map((r) => ({ index: r.row_index, errored: r.errored, event: JSON.parse(r.event) }))
      .sort((a, b) => a.index - b.index);
    expect(rows.map((r) => [r.index, r.errored, r.event.output, r.event.metadata.model])).toEqual([
      [0, 0, "answer 0 v1", "model-v1"],
      [1, 0, "answer 1 v1", "model-v1"],
      [2, 0, "answer 2 v2", "model-v2"],
      [3, 0, "answer 3 v1", "model-v1"],
    ]);
    // The scorers saw the metadata the task had set, and the tags the task added are kept once.
    expect(rows.map((r) => r.event.score_metadata?.judge?.saw)).toEqual([
      "model-v1",
      "model-v1",
      "model-v2",
      "model-v1",
    ]);
    expect(rows.map((r) => r.event.tags)).toEqual([
      ["from-task"],
      ["from-task"],
      ["from-task"],
      ["from-task"],
    ]);
    // A re-scored row keeps its task's timing.
    const metricsOf = (seq: number | undefined) =>
      JSON.parse(storedRows(db, seq).find((r) => r.row_index === 1)?.event ?? "{}").metrics;
    expect(metricsOf(fresh?.seq)).toEqual(metricsOf(old?.seq));
  });
});

describe("--retry-errors re-scores only the rows it stored", () => {
  const judged = (suffix: string) => `${HEADER}
import { appendFileSync } from "node:fs";
Eval("ids", {
  data: [{ id: "a", input: process.env.INPUT_A ?? "a" }, { id: "b", input: "b" }],
  task: (input: string) => {
    appendFileSync(process.env.TASK_LOG!, input + "\\n");
    return input + "${suffix}";
  },
  scores: [
    function judge({ input, output }: { input: string; output: string }) {
      if (process.env.JUDGE_DOWN === "1") throw new Error("429 rate limited");
      return output === input + "${suffix}";
    },
  ],
});
`;

  it("runs whole a row whose input was edited since (same id), and every row once the code has changed", async () => {
    const dir = project({ "package.json": PACKAGE, "ids.eval.ts": judged("!") });
    const taskLog = path.join(dir, "tasks.log");
    const tasks = () => readFileSync(taskLog, "utf8").trim().split("\n").sort();
    expect((await runCli(["--jsonl"], { cwd: dir, env: { TASK_LOG: taskLog, JUDGE_DOWN: "1" } })).code).toBe(
      1,
    );
    rmSync(taskLog);

    // Row a's input was edited: its stored output answers another question, so its task runs again.
    const edited = await runCli(["--retry-errors", "--no-progress"], {
      cwd: dir,
      env: { TASK_LOG: taskLog, INPUT_A: "a-edited" },
    });
    expect(edited.code).toBe(0);
    expect(tasks()).toEqual(["a-edited"]);
    expect(edited.stdout).toContain(
      `Eval "ids": 1 errored row's scorers ran again on the stored output, without running the task (only a scorer had failed); 1 other errored row ran whole.`,
    );
    const db = storeOf(dir);
    const outputs = (seq: number | undefined) =>
      Object.fromEntries(
        storedRows(db, seq).map((r) => [JSON.parse(r.event).input, JSON.parse(r.event).output]),
      );
    expect(outputs(experiments(db).at(-1)?.seq)).toEqual({ "a-edited": "a-edited!", b: "b!" });

    // The judge fails again; then the task is fixed: the stored outputs are the old code's, so every row runs.
    expect((await runCli(["--jsonl"], { cwd: dir, env: { TASK_LOG: taskLog, JUDGE_DOWN: "1" } })).code).toBe(
      1,
    );
    rmSync(taskLog);
    writeFileSync(path.join(dir, "ids.eval.ts"), judged("?"));
    const fixed = await runCli(["--retry-errors", "--no-progress"], { cwd: dir, env: { TASK_LOG: taskLog } });
    expect(fixed.code).toBe(0);
    expect(tasks()).toEqual(["a", "b"]);
    expect(fixed.stdout).toContain(
      "its code has changed since " +
        (experiments(db).at(-2)?.name ?? "?") +
        " (its file or a module it imports), so its errored rows run whole, tasks too",
    );
    expect(fixed.stdout).not.toContain("scorers ran again on the stored output");
    expect(outputs(experiments(db).at(-1)?.seq)).toEqual({ a: "a?", b: "b?" });
  });
});

describe("--retry-errors with an output JSON does not keep", () => {
  it("runs the task again for it, since the stored copy is another value", async () => {
    const dir = project({
      "package.json": PACKAGE,
      "dated.eval.ts": `${HEADER}
import { appendFileSync } from "node:fs";
Eval("dated", {
  data: [{ input: "plain" }, { input: "dated" }],
  task: (input: string) => {
    appendFileSync(process.env.TASK_LOG!, input + "\\n");
    return input === "dated" ? { at: new Date(0) } : { text: input };
  },
  scores: [
    function judge({ output }: { output: { at?: Date; text?: string } }) {
      if (process.env.JUDGE_DOWN === "1") throw new Error("429 rate limited");
      return output.at === undefined || output.at instanceof Date;
    },
  ],
});
`,
    });
    const taskLog = path.join(dir, "tasks.log");
    expect((await runCli(["--jsonl"], { cwd: dir, env: { TASK_LOG: taskLog, JUDGE_DOWN: "1" } })).code).toBe(
      1,
    );
    rmSync(taskLog);
    const retried = await runCli(["--retry-errors", "--no-progress"], {
      cwd: dir,
      env: { TASK_LOG: taskLog },
    });
    expect(retried.code).toBe(0);
    expect(readFileSync(taskLog, "utf8")).toBe("dated\n");
    expect(retried.stdout).toContain("1 errored row's scorers ran again on the stored output");
    expect(retried.stdout).toContain("1 other errored row ran whole");
    // The marker stays in the store: an export is InsertEvents as before.
    const db = storeOf(dir);
    const exported = await runCli(["export", experiments(db)[0]?.name ?? ""], { cwd: dir });
    expect(exported.stdout).toContain('"at":"1970-01-01T00:00:00.000Z"');
    expect(exported.stdout).not.toContain("lossy");
  });
});

describe("--retry-errors and --resume with rows that share a row key", () => {
  it("re-run the row that errored, not another row with its key, and store each row once", async () => {
    const dir = project({
      "package.json": PACKAGE,
      "same.eval.ts": `${HEADER}
Eval("same", {
  // One question asked three times, expecting three answers: one row key for three rows.
  data: ["first", "second", "third"].map((expected) => ({ input: "q", expected })),
  task: (q: string, { expected }: { expected?: string }) => {
    if (process.env.FAIL === "1" && expected === "first") throw new Error("first fails");
    return "answer " + expected;
  },
  scores: [function right({ output, expected }: { output: string; expected?: string }) { return output === "answer " + expected; }],
});
`,
    });
    const failing = await runCli(["--jsonl"], { cwd: dir, env: { FAIL: "1" } });
    expect(failing.code).toBe(1);
    const retried = await runCli(["--retry-errors", "--jsonl"], { cwd: dir, env: { FAIL: undefined } });
    expect(retried.code).toBe(0);
    expect(summaryOf(retried.stdout, "same").metrics.errors?.metric).toBe(0);
    const db = storeOf(dir);
    const fresh = experiments(db).at(-1);
    const rows = storedRows(db, fresh?.seq).map((r) => [r.row_index, JSON.parse(r.event).output]);
    expect(rows.sort()).toEqual([
      [0, "answer first"],
      [1, "answer second"],
      [2, "answer third"],
    ]);
  });
});

/**
 * An eval of `rows` rows that waits while loading until START_AT (epoch ms; the last 30 ms spinning, for
 * precision), so that processes started together open the store at the same moment.
 */
const concurrentEval = (name: string, rows: number) => `${HEADER}
const at = Number(process.env.START_AT ?? 0);
if (at - 30 > Date.now()) await new Promise((r) => setTimeout(r, at - 30 - Date.now()));
while (Date.now() < at) {}
Eval(${JSON.stringify(name)}, {
  data: Array.from({ length: ${rows} }, (_, i) => ({ input: i })),
  task: async (i: number) => {
    await new Promise((r) => setTimeout(r, 2));
    return i;
  },
  scores: [function s() { return 1; }],
  maxConcurrency: 20,
});
`;

describe("two processes, one store", () => {
  it("each writes its experiment completely when they run at the same time", async () => {
    const dir = project({
      "package.json": PACKAGE,
      "a.eval.ts": concurrentEval("alpha", 300),
      "b.eval.ts": concurrentEval("beta", 300),
      "init.eval.ts": concurrentEval("init", 1),
    });
    const store = path.join(dir, "shared.db");
    const init = await runCli(["init.eval.ts", "--store", store], { cwd: dir });
    expect(init.code).toBe(0);

    // Two different evals, and the first one a second time (same eval, same second: the names must not clash).
    const env = { START_AT: String(Date.now() + 1500) };
    const runs = await Promise.all(
      ["a.eval.ts", "b.eval.ts", "a.eval.ts"].map((file) =>
        runCli([file, "--store", store, "--jsonl"], { cwd: dir, env }),
      ),
    );
    expect(runs.map((r) => r.stderr)).toEqual(["", "", ""]);
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    const stored = experiments(store);
    expect(stored).toHaveLength(4);
    for (const [result, name] of [
      [runs[0], "alpha"],
      [runs[1], "beta"],
      [runs[2], "alpha"],
    ] as const) {
      const summary = summaryOf(result?.stdout ?? "", name);
      expect(summary.metrics.rows?.metric).toBe(300);
      const exp = stored.find((e) => e.project === name && e.name === summary.experiment_name);
      expect(exp?.status).toBe("complete");
      const rows = storedRows(store, exp?.seq);
      expect(rows).toHaveLength(300);
      expect(rows.map((r) => r.row_index).sort(byNumber)).toEqual(range(300));
    }
    expect(new Set(stored.map((e) => `${e.project}/${e.name}`)).size).toBe(4);
  });

  it("both succeed when two start on a store that does not exist yet", async () => {
    const dir = project({ "package.json": PACKAGE, "c.eval.ts": concurrentEval("gamma", 5) });
    // Creating the store takes a few milliseconds, so two processes only collide when they reach it together:
    // each spins until START_AT once loaded, and the pair is tried on a fresh store a few times.
    for (let round = 0; round < 4; round++) {
      const store = path.join(dir, `fresh-${round}.db`);
      const env = { START_AT: String(Date.now() + 1200) };
      const results = await Promise.all(
        range(2).map(() => runCli(["--store", store, "--jsonl"], { cwd: dir, env })),
      );
      expect(results.map((r) => r.stderr)).toEqual(["", ""]);
      expect(results.map((r) => r.code)).toEqual([0, 0]);
      const stored = experiments(store);
      expect(stored.map((e) => e.status)).toEqual(["complete", "complete"]);
      expect(new Set(stored.map((e) => e.name)).size).toBe(2);
      expect(storedRows(store)).toHaveLength(10);
    }
  });
});

/**
 * Eval "cmp": six rows with explicit ids, two trials each. The task returns the score table's value for the row,
 * version and trial; `acc` is that value, `pass` is 1 above 0.55 (null for row a).
 *
 *   id    VERSION=1 (t0, t1)   VERSION=2 (t0, t1)   acc row mean 1 → 2      pass row mean 1 → 2
 *   a     0.5, 0.5             1,   0               0.5 → 0.5  same        null → null (not compared)
 *   b     1,   0               1,   1               0.5 → 1    up          0.5 → 1    up
 *   c     0.2, 0.2             0.4, 0.6             0.2 → 0.5  up          0   → 0.5  up
 *   d     1,   1               0,   1               1   → 0.5  down        1   → 0.5  down
 *   e     0.6, 0.6             0.5, 0.7             0.6 → 0.6  same        1   → 0.5  down
 *   gone  0,   0               —                    only in version 1
 *   new   —                    1,   1               only in version 2
 *
 * Row a shows why trials are averaged per row: trial 0 rose and trial 1 fell, but the row did not move.
 *
 * acc:  v1 mean = (1 + 1 + 0.4 + 2 + 1.2 + 0) / 12 = 5.6 / 12;  v2 mean = (1 + 2 + 1 + 1 + 1.2 + 2) / 12 = 8.2 / 12
 *       diff = 2.6 / 12 ≈ 0.2167 (+21.7%); improvements 2 (b, c); regressions 1 (d)
 * pass: v1 = (1 + 0 + 2 + 2 + 0) / 10 = 0.5;  v2 = (2 + 1 + 1 + 1 + 2) / 10 = 0.7
 *       diff = 0.2 (+20.0%); improvements 2 (b, c); regressions 2 (d, e)
 * Rows: 5 matched (a..e), 1 only in this run (new), 1 only in the baseline (gone).
 */
const CMP_EVAL = `${HEADER}
const TABLE: Record<string, Record<string, [number, number]>> = {
  "1": { a: [0.5, 0.5], b: [1, 0], c: [0.2, 0.2], d: [1, 1], e: [0.6, 0.6], gone: [0, 0] },
  "2": { a: [1, 0], b: [1, 1], c: [0.4, 0.6], d: [0, 1], e: [0.5, 0.7], new: [1, 1] },
};
const version = process.env.VERSION ?? "1";
Eval("cmp", {
  data: () => Object.keys(TABLE[version]!).map((id) => ({ id, input: id })),
  task: (id: string, { trialIndex }: { trialIndex: number }) => TABLE[version]![id]![trialIndex],
  scores: [
    function acc({ output }: { output: number }) { return output; },
    function pass({ input, output }: { input: string; output: number }) { return input === "a" ? null : output > 0.55 ? 1 : 0; },
  ],
  trialCount: 2,
  ...(process.env.EXP ? { experimentName: process.env.EXP } : {}),
  ...(process.env.BASE ? { baseExperimentName: process.env.BASE } : {}),
});
`;

type Summary = ReturnType<typeof summaryOf>;

function expectVersion2AgainstVersion1(summary: Summary, baselineName: string): void {
  expect(summary.comparison_experiment_name).toBe(baselineName);
  expect(summary.scores.acc?.score).toBeCloseTo(8.2 / 12, 10);
  expect(summary.scores.acc?.diff).toBeCloseTo(2.6 / 12, 10);
  expect(summary.scores.acc?.improvements).toBe(2);
  expect(summary.scores.acc?.regressions).toBe(1);
  expect(summary.scores.pass?.score).toBeCloseTo(0.7, 10);
  expect(summary.scores.pass?.diff).toBeCloseTo(0.2, 10);
  expect(summary.scores.pass?.improvements).toBe(2);
  expect(summary.scores.pass?.regressions).toBe(2);
}

describe("baselines", () => {
  it("compares with the previous complete experiment, or the one --baseline, baseExperimentName or an id prefix names", async () => {
    const dir = project({ "package.json": PACKAGE, "cmp.eval.ts": CMP_EVAL });
    const db = storeOf(dir);

    const v1 = await runCli(["--jsonl"], { cwd: dir, env: { VERSION: "1", EXP: "v1" } });
    expect(v1.code).toBe(0);
    const first = summaryOf(v1.stdout, "cmp");
    expect(first.comparison_experiment_name).toBeNull();
    expect(first.scores.acc?.score).toBeCloseTo(5.6 / 12, 10);
    expect(first.scores.acc?.diff).toBeNull();
    expect(first.scores.pass?.score).toBeCloseTo(0.5, 10);
    const v1Id = experiments(db)[0]?.id ?? "";

    // No baseline named: the newest complete experiment of the eval, here v1.
    const v2 = await runCli(["--jsonl"], { cwd: dir, env: { VERSION: "2" } });
    expect(v2.code).toBe(0);
    const second = summaryOf(v2.stdout, "cmp");
    expectVersion2AgainstVersion1(second, "v1");
    const stored = experiments(db);
    expect(stored[1]?.base_experiment_id).toBe(v1Id);
    expect(JSON.parse(stored[1]?.summary ?? "null")).toEqual(second);

    // Again: now the newest complete one is the previous version-2 run, with the same results.
    const v2again = await runCli(["--jsonl"], { cwd: dir, env: { VERSION: "2" } });
    const third = summaryOf(v2again.stdout, "cmp");
    expect(third.comparison_experiment_name).toBe(second.experiment_name);
    expect(third.scores.acc?.diff).toBeCloseTo(0, 10);
    expect([third.scores.acc?.improvements, third.scores.acc?.regressions]).toEqual([0, 0]);

    // --baseline by name, on the terminal.
    const named = await runCli(["--baseline", "v1", "--no-progress"], { cwd: dir, env: { VERSION: "2" } });
    expect(named.code).toBe(0);
    expect(named.stdout).toContain(
      "baseline    v1 · 5 rows matched · 1 only in this run, 1 only in the baseline",
    );
    expect(named.stdout).toMatch(/acc\s+68\.3%\s+\(\+21\.7%\)\s+2 improvements\s+1 regression\s+12 scored/);
    expect(named.stdout).toMatch(/pass\s+70\.0%\s+\(\+20\.0%\)\s+2 improvements\s+2 regressions\s+10 scored/);

    // baseExperimentName in Eval().
    const fromEval = await runCli(["--jsonl"], { cwd: dir, env: { VERSION: "2", BASE: "v1" } });
    expect(fromEval.code).toBe(0);
    expectVersion2AgainstVersion1(summaryOf(fromEval.stdout, "cmp"), "v1");

    // One the store does not have (a ported file's, kept in Braintrust's cloud): said, and the default is used.
    const elsewhere = await runCli(["--no-progress"], {
      cwd: dir,
      env: { VERSION: "2", BASE: "main-baseline" },
    });
    expect(elsewhere.code).toBe(0);
    expect(elsewhere.stdout).toMatch(
      /its baseExperimentName "main-baseline" names no experiment in this store; compared with \S+, its last complete run, instead/,
    );
    expect(elsewhere.stdout).toMatch(/baseline {4}\S+ · 6 rows matched/);

    // --baseline by a prefix of the id.
    const byId = await runCli(["--jsonl", "--baseline", v1Id.slice(0, 8)], {
      cwd: dir,
      env: { VERSION: "2" },
    });
    expect(byId.stderr).toBe("");
    expect(byId.code).toBe(0);
    expectVersion2AgainstVersion1(summaryOf(byId.stdout, "cmp"), "v1");
    expect(experiments(db).at(-1)?.base_experiment_id).toBe(v1Id);
  });

  it("writes a large eval completely, compares it through the experiment index, and stores repeated inputs once", async () => {
    // Every third row has an input large enough to be stored as a blob. Past THREAD_AFTER rows, most of them are
    // written by the store's writer thread.
    const N = 60_000;
    const BIG = `import { Eval } from "evalrun";
const v = Number(process.env.VERSION);
Eval("big", {
  data: () => Array.from({ length: ${N} }, (_, i) => ({ input: i % 3 === 0 ? "x".repeat(300) + i : "r" + i, metadata: { i } })),
  task: (input: string, { metadata }: any) => (v === 1 ? metadata.i % 3 !== 0 : metadata.i % 5 !== 0),
  scores: [function right({ output }: any) { return output ? 1 : 0; }],
});
`;
    const dir = project({ "package.json": PACKAGE, "big.eval.ts": BIG });
    const db = storeOf(dir);
    const one = await runCli(["--jsonl"], { cwd: dir, env: { VERSION: "1" } });
    expect(one.code).toBe(0);
    const two = await runCli(["--jsonl"], { cwd: dir, env: { VERSION: "2" } });
    expect(two.code).toBe(0);
    const rows = range(N);
    const improved = rows.filter((i) => i % 3 === 0 && i % 5 !== 0).length;
    const regressed = rows.filter((i) => i % 3 !== 0 && i % 5 === 0).length;
    const summary = summaryOf(two.stdout, "big");
    expect(summary.scores.right).toMatchObject({ improvements: improved, regressions: regressed });
    expect(summary.scores.right?.score).toBeCloseTo(rows.filter((i) => i % 5 !== 0).length / N, 10);
    const [first, second] = experiments(db);
    for (const exp of [first, second]) {
      const stored = storedRows(db, exp?.seq);
      expect(stored).toHaveLength(N);
      expect(new Set(stored.map((r) => r.row_index))).toEqual(new Set(rows));
    }
    // Each experiment's index (what a run reads of its baseline) covers every row key and blob: the first's
    // lists them; the second, a re-run of the same data in the same order, names the first's lists.
    const indexes = withStore(db, (d) =>
      (
        d.prepare("SELECT exp, means, blobs FROM row_index ORDER BY exp").all() as Array<
          Record<string, string>
        >
      ).map((r) => ({
        exp: r.exp,
        means: JSON.parse(r.means as string),
        // A list of digests is packed end to end, 40 hex digits each; a reference to another's is JSON.
        blobs: /^[0-9a-f]/.test(r.blobs as string)
          ? (r.blobs as string).match(/.{40}/g)
          : JSON.parse(r.blobs as string),
      })),
    );
    const bigOnes = rows.filter((i) => i % 3 === 0).length;
    expect(indexes.map((i) => i.exp)).toEqual([first?.seq, second?.seq]);
    expect(indexes[0]?.means.keys).toHaveLength(N);
    expect(indexes[0]?.blobs).toHaveLength(bigOnes);
    expect(indexes[1]?.means).toMatchObject({ keysOf: first?.seq });
    expect(indexes[1]?.means.scores.right).toHaveLength(N);
    expect(indexes[1]?.blobs).toEqual({ same: first?.seq });
    // The big inputs are kept once, as blobs shared by both experiments, and read back whole.
    const blobs = withStore(db, (d) => d.prepare("SELECT count(*) FROM blobs").pluck().get());
    expect(blobs).toBe(rows.filter((i) => i % 3 === 0).length);
    const exported = await runCli(["export", second?.name ?? "", "--format", "json"], { cwd: dir });
    const { rows: events } = JSON.parse(exported.stdout) as {
      rows: Array<{ input: string; metadata: { i: number } }>;
    };
    expect(events.filter((e) => e.input === "x".repeat(300) + e.metadata.i)).toHaveLength(blobs as number);
  });

  it("compares with an exported experiment given as --baseline FILE.jsonl", async () => {
    // Rows have no ids: they match the file's rows by their input, whatever the order of its keys.
    // This run:   a 1, b 0.5, c 0, d 1                       → mean 2.5 / 4 = 0.625
    // The file:   a (0.5, 0), b (1, 0), c 1, e 0            → mean 2.5 / 6 ≈ 0.4167; per row a 0.25, b 0.5, c 1
    // diff = 0.625 - 2.5 / 6 ≈ 0.2083 (+20.8%); a rose (0.25 → 1), b did not move (0.5 → 0.5), c fell (1 → 0).
    // 3 rows matched (a, b, c), 1 only in this run (d), 1 only in the baseline (e).
    const dir = project({
      "package.json": PACKAGE,
      "cmp.eval.ts": `${HEADER}
const ACC: Record<string, number> = { a: 1, b: 0.5, c: 0, d: 1 };
Eval("cmp", {
  data: [{ input: { q: "a", n: 1 } }, { input: { q: "b", n: 2 } }, { input: { q: "c", n: 3 } }, { input: { q: "d", n: 4 } }],
  task: (input: { q: string }) => ACC[input.q],
  scores: [function acc({ output }: { output: number }) { return output; }],
});
`,
    });
    const file = path.join(dir, "base.jsonl");
    const lines = [
      {
        evalrun_export: 1,
        experiment: { id: randomUUID(), project: "cmp", name: "from-file", status: "complete" },
      },
      { input: { n: 1, q: "a" }, scores: { acc: 0.5 } },
      { input: { n: 1, q: "a" }, scores: { acc: 0 }, trial_index: 1 },
      { input: { n: 2, q: "b" }, scores: { acc: 1 } },
      { input: { n: 2, q: "b" }, scores: { acc: 0 }, trial_index: 1 },
      { input: { n: 3, q: "c" }, scores: { acc: 1 } },
      { input: { n: 5, q: "e" }, scores: { acc: 0 } },
    ];
    writeFileSync(file, `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`);

    const result = await runCli(["--jsonl", "--baseline", "base.jsonl"], { cwd: dir });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const summary = summaryOf(result.stdout, "cmp");
    expect(summary.comparison_experiment_name).toBe("from-file");
    expect(summary.scores.acc?.score).toBeCloseTo(0.625, 10);
    expect(summary.scores.acc?.diff).toBeCloseTo(0.625 - 2.5 / 6, 10);
    expect(summary.scores.acc?.improvements).toBe(1);
    expect(summary.scores.acc?.regressions).toBe(1);

    const text = await runCli(["--baseline", "base.jsonl", "--no-progress"], { cwd: dir });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(
      "baseline    from-file · 3 rows matched · 1 only in this run, 1 only in the baseline",
    );
    expect(text.stdout).toMatch(/acc\s+62\.5%\s+\(\+20\.8%\)\s+1 improvement\s+1 regression\s+4 scored/);
    // The file's experiment is kept once, however often it is used.
    expect(experiments(storeOf(dir)).filter((e) => e.name === "from-file")).toHaveLength(1);

    // Plain rows without the header do not say which eval they belong to.
    const plain = path.join(dir, "plain.jsonl");
    writeFileSync(
      plain,
      `${lines
        .slice(1)
        .map((l) => JSON.stringify(l))
        .join("\n")}\n`,
    );
    const before = snapshot(storeOf(dir));
    const refused = await runCli(["--jsonl", "--baseline", "plain.jsonl"], { cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("no evalrun export header");
    expect(refused.stdout).toBe("");
    expect(snapshot(storeOf(dir))).toEqual(before);
  });

  it("says which evals --baseline NAME found nothing for, when it found one for others", async () => {
    const dir = project({
      "package.json": PACKAGE,
      "a.eval.ts": `${HEADER}Eval("a", { data: [{ input: 1 }], task: (x: number) => x, scores: [function s() { return 1; }], experimentName: "only-a" });\n`,
      "b.eval.ts": `${HEADER}Eval("b", { data: [{ input: 1 }], task: (x: number) => x, scores: [function s() { return 1; }] });\n`,
    });
    await runCli(["--no-progress"], { cwd: dir });
    const result = await runCli(["--baseline", "only-a", "--no-progress"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("baseline    only-a · 1 row matched");
    expect(result.stdout).toContain(
      '· b: no experiment of it is named "only-a", so it was compared with none',
    );
  });

  it("keys rows with a blank id by their input, says when rows share a key, and shows a shared key's low row", async () => {
    // A CSV's id column with empty cells; a JSONL with a repeated id and a repeated input.
    const dir = project({
      "package.json": PACKAGE,
      "rows.csv": "id,input,expected\nq1,a,a\n,b,b\n,c,c\n,d,d\n",
      "rows.jsonl": [
        '{"id":"faq","input":"a","expected":"a"}',
        '{"id":"faq","input":"b","expected":"b"}',
        '{"input":"c"}',
        '{"input":"e"}',
      ].join("\n"),
      "rows.eval.ts": `import { Eval, loadCsv, loadJsonl } from "evalrun";
const wrong = (process.env.WRONG ?? "").split(",");
const task = (input: string) => (wrong.includes(input) ? "nope" : input);
const scores = [function Eq({ input, output }: { input: string; output: string }) { return output === input ? 1 : 0; }];
Eval("csv", { data: loadCsv("rows.csv") as never, task, scores });
Eval("jsonl", { data: loadJsonl("rows.jsonl"), task, scores });
`,
    });
    expect((await runCli(["--no-progress"], { cwd: dir })).code).toBe(0);
    const again = await runCli(["--no-progress"], { cwd: dir, env: { WRONG: "b,d" } });
    expect(again.stdout).toMatch(/✔ csv[^✘✔]*· 4 rows matched\n/);
    expect(again.stdout).toMatch(/✔ csv[^✘✔]*Eq\s+50\.0%\s+\(-50\.0%\)\s+0 improvements\s+2 regressions/);
    expect(again.stdout).toMatch(
      /✔ jsonl[^✘✔]*· 3 rows matched · 1 row repeats another row's id or input \(compared as one\)\n/,
    );
    const jsonl = experiments(storeOf(dir)).filter((e) => e.project === "jsonl");
    // The shared key's wrong row is what `show` and `compare` print, not the first (right) one.
    const shown = await runCli(["show", jsonl[1]?.id ?? "", "--rows", "1"], { cwd: dir });
    expect(shown.stdout).toMatch(/id:faq[^\n]*\n\s+input\s+"b"\n\s+output\s+"nope"/);
    const compared = await runCli(["compare", jsonl[0]?.id ?? "", jsonl[1]?.id ?? ""], { cwd: dir });
    // Both sides are the same row's: "b" before, "nope" after (not row "a"'s output as "b"'s before).
    expect(compared.stdout).toMatch(
      /id:faq[^\n]*\n\s+input\s+"b"\n\s+expected\s+"b"\n\s+\S+\s+"b"\n\s+\S+\s+"nope"/,
    );
  });

  it("counts rows matched with the baseline whether or not they were scored", async () => {
    // An eval without scorers (output only, read later) and one whose only scorer never scores: their rows still
    // match the previous run's, by key, on the terminal and in `evalrun compare`. (One whose only scorer always
    // throws is no baseline: every row errored.)
    const dir = project({
      "package.json": PACKAGE,
      "plain.eval.ts": `${HEADER}
Eval("plain", { data: [{ input: "a" }, { input: "b" }, { input: "c" }], task: (i: string) => i, scores: [] });
Eval("broken", {
  data: [{ input: "a" }, { input: "b" }],
  task: (i: string) => i,
  scores: [function skipped() { return null; }],
});
`,
    });
    expect((await runCli(["--no-progress"], { cwd: dir })).code).toBe(0);
    const again = await runCli(["--no-progress"], { cwd: dir });
    expect(again.stdout).toMatch(/✔ plain[^✘✔]*· 3 rows matched\n/);
    expect(again.stdout).toMatch(/✔ broken[^✘✔]*· 2 rows matched\n/);
    const [first, second] = experiments(storeOf(dir)).filter((e) => e.project === "plain");
    const compared = await runCli(["compare", first?.id ?? "", second?.id ?? ""], { cwd: dir });
    expect(compared.code).toBe(0);
    expect(compared.stdout).toContain("3 rows matched · 0 only in");
  });

  it("--baseline that names nothing exits 2 with NOT_FOUND, a suggestion when one is close, and creates nothing", async () => {
    const dir = project({
      "package.json": PACKAGE,
      "cmp.eval.ts": CMP_EVAL,
    });
    const db = storeOf(dir);
    const first = await runCli(["--jsonl"], { cwd: dir, env: { EXP: "nopes" } });
    expect(first.code).toBe(0);
    const before = snapshot(db);

    const close = await runCli(["--jsonl", "--baseline", "nope"], { cwd: dir });
    expect(close.code).toBe(2);
    expect(close.stderr).toContain('[NOT_FOUND] No experiment of eval "cmp" is named or has the id "nope".');
    expect(close.stderr).toContain('Did you mean "nopes"?');
    expect(close.stdout).toBe("");
    expect(snapshot(db)).toEqual(before);

    const far = await runCli(["--baseline", "zzzzzzzzzzzz"], { cwd: dir });
    expect(far.code).toBe(2);
    expect(far.stderr).toContain(
      '[NOT_FOUND] No experiment of eval "cmp" is named or has the id "zzzzzzzzzzzz".',
    );
    expect(far.stderr).not.toContain("Did you mean");
    expect(snapshot(db)).toEqual(before);
  });
});

/** Spawns the built CLI as another user (uid/gid 65534), for permission checks that root would bypass. */
describe("many score names", () => {
  it("keeps no dense index for per-category score names, and compares them from the rows", async () => {
    // 300 names over 20,000 rows, each row scored under one: a column per name would hold 6,000,000 cells.
    const dir = project({
      "package.json": PACKAGE,
      "cat.eval.ts": `${HEADER}
Eval("cat", {
  data: Array.from({ length: 20000 }, (_, i) => ({ input: i, metadata: { category: "c" + (i % 300) } })),
  task: (i: number) => i,
  scores: [function acc({ output, metadata }: any) { return { name: "acc_" + metadata.category, score: output % 3 ? 1 : 0 }; }],
});
`,
    });
    const first = await runCli(["--jsonl"], { cwd: dir, timeoutMs: 60_000 });
    expect(first.code).toBe(0);
    expect(Object.keys(summaryOf(first.stdout, "cat").scores)).toHaveLength(300);
    const second = await runCli(["--no-progress"], { cwd: dir, timeoutMs: 60_000, env: { NO_COLOR: "1" } });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("20000 rows matched");
    expect(second.stdout).toMatch(/acc_c1\s+100\.0%\s+\(\+0\.0%\)\s+0 improvements\s+0 regressions/);
    const indexed = withStore(storeOf(dir), (d) => d.prepare("SELECT count(*) FROM row_index").pluck().get());
    expect(indexed).toBe(0);
  });

  it("keeps the index for many scorers that each score every row (what the SQL fallback pairs slowly)", async () => {
    // 250 scorers over 10,000 rows: as many cells as the per-category case above, every one filled.
    const dir = project({
      "package.json": PACKAGE,
      "dense.eval.ts": `${HEADER}
const scorers = Array.from({ length: 250 }, (_, k) => Object.defineProperty(({ input }: any) => ((input + k) % 3 ? 1 : 0), "name", { value: "s" + k }));
Eval("dense", { data: Array.from({ length: 10000 }, (_, i) => ({ input: i })), task: (i: number) => i, scores: scorers });
`,
    });
    expect((await runCli(["--no-progress"], { cwd: dir, timeoutMs: 60_000 })).code).toBe(0);
    const second = await runCli(["--no-progress"], { cwd: dir, timeoutMs: 60_000, env: { NO_COLOR: "1" } });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("10000 rows matched");
    const indexed = withStore(storeOf(dir), (d) => d.prepare("SELECT count(*) FROM row_index").pluck().get());
    expect(indexed).toBe(2);
  });
});

describe("a store evalrun cannot use", () => {
  const files = {
    "package.json": PACKAGE,
    "one.eval.ts": `${HEADER}Eval("one", { data: [{ input: 1 }], task: (x: number) => x, scores: [function s() { return 1; }] });\n`,
  };

  it("refuses a file that is not a SQLite database and leaves it byte for byte", async () => {
    const dir = project(files);
    const text = "these are my notes, not a database\n".repeat(200);
    mkdirSync(path.join(dir, ".evalrun"));
    writeFileSync(storeOf(dir), text);
    const result = await runCli(["--jsonl"], { cwd: dir, env: { EVALRUN_STORE: undefined } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("[STORE_INVALID]");
    expect(result.stderr).toContain("Nothing was changed.");
    expect(result.stdout).toBe("");
    expect(readFileSync(storeOf(dir), "utf8")).toBe(text);
    expect(readdirSync(path.join(dir, ".evalrun"))).toEqual(["evalrun.db"]);
  });

  it("refuses another program's SQLite database without switching it to WAL mode", async () => {
    const dir = project(files);
    mkdirSync(path.join(dir, ".evalrun"));
    const theirs = new Database(storeOf(dir));
    theirs.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');");
    theirs.close();
    const result = await runCli(["--jsonl"], { cwd: dir, env: { EVALRUN_STORE: undefined } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("is a SQLite database that evalrun did not create. Nothing was changed.");
    const after = new Database(storeOf(dir), { readonly: true });
    expect(after.pragma("journal_mode", { simple: true })).toBe("delete");
    after.close();
  });

  it("refuses a store written by a newer evalrun and leaves its version alone", async () => {
    const dir = project(files);
    const store = path.join(dir, "newer.db");
    const db = new Database(store);
    db.pragma("user_version = 99");
    db.exec("CREATE TABLE future (x)");
    db.close();
    const bytes = readFileSync(store);
    const result = await runCli(["--jsonl", "--store", "newer.db"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("[STORE_TOO_NEW]");
    expect(result.stdout).toBe("");
    expect(withStore(store, (d) => d.pragma("user_version", { simple: true }))).toBe(99);
    expect(readFileSync(store).equals(bytes)).toBe(true);
  });

  it("reports a store directory it cannot write to", async () => {
    const dir = project(files);
    const storeDir = path.join(dir, ".evalrun");
    mkdirSync(storeDir);
    if (process.getuid?.() === 0) {
      // Root ignores permission bits, and running the CLI as another user needs every directory above the checkout
      // to be readable by it (a CI clone in a 0700 temp dir is not). sysfs refuses new entries even to root: a
      // store there cannot be created, which is what a read-only directory means to evalrun.
      const store = "/sys/evalrun-test/evalrun.db";
      expect(existsSync(store)).toBe(false);
      const result = await runCli(["--no-progress", "--store", store], { cwd: dir });
      expect(result.stderr).toContain(`[STORE_UNWRITABLE] Cannot write the store ${store}`);
      expect(result.code).toBe(2);
      expect(existsSync(store)).toBe(false);
    } else {
      chmodSync(storeDir, 0o555);
      const result = await runCli(["--no-progress"], { cwd: dir, env: { EVALRUN_STORE: undefined } });
      chmodSync(storeDir, 0o755);
      expect(result.stderr).toContain("[STORE_UNWRITABLE]");
      expect(result.code).toBe(2);
    }
    expect(readdirSync(storeDir)).toEqual([]);
  });

  it("says a --store that is a directory is one, for runs, history commands and import", async () => {
    const dir = project({ ...files, "storedir/keep.txt": "" });
    for (const args of [
      ["--no-progress", "--store", "storedir"],
      ["experiments", "--store", "storedir"],
    ]) {
      const result = await runCli(args, { cwd: dir });
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toContain(
        `The store ${path.join(dir, "storedir")} is a directory; the store is a file.`,
      );
    }
    const imported = await runCli(["import", "storedir"], { cwd: dir });
    expect(imported.stderr).toContain("storedir is a directory, not an export file.");
  });
});

describe("an install without better-sqlite3's addon", () => {
  it("says the addon is not built and how to build it, for --no-store too, instead of a permission hint or a trace", () => {
    // What `npm i --ignore-scripts` (or a package manager blocking build scripts) leaves: the JavaScript, no build/.
    const install = mkdtempSync(path.join(os.tmpdir(), "evalrun-noaddon-"));
    const modules = path.join(install, "node_modules");
    const evalrun = path.join(modules, "evalrun");
    cpSync(path.join(ROOT, "dist"), path.join(evalrun, "dist"), { recursive: true });
    cpSync(path.join(ROOT, "package.json"), path.join(evalrun, "package.json"));
    const sqlite = path.join(ROOT, "node_modules", "better-sqlite3");
    cpSync(path.join(sqlite, "lib"), path.join(modules, "better-sqlite3", "lib"), { recursive: true });
    cpSync(path.join(sqlite, "package.json"), path.join(modules, "better-sqlite3", "package.json"));
    for (const dep of ["bindings", "file-uri-to-path", "esbuild", "@esbuild"]) {
      symlinkSync(path.join(ROOT, "node_modules", dep), path.join(modules, dep));
    }
    writeFileSync(
      path.join(install, "package.json"),
      JSON.stringify({ name: "app", private: true, type: "module" }),
    );
    writeFileSync(
      path.join(install, "a.eval.ts"),
      `import { Eval } from "evalrun";\nEval("a", { data: [{ input: 1 }], task: (x: number) => x, scores: [() => 1] });\n`,
    );
    try {
      for (const args of [[], ["--no-store"]]) {
        const child = spawnSync(process.execPath, [path.join(evalrun, "dist", "bin.js"), ...args], {
          cwd: install,
          encoding: "utf8",
          env: { ...process.env, NO_COLOR: "1", EVALRUN_STORE: undefined },
        });
        expect(child.status, child.stderr).toBe(2);
        expect(child.stderr).toContain(
          "[SQLITE_ADDON] better-sqlite3's native addon, which evalrun's store needs, is not built",
        );
        expect(child.stderr).toContain("npm rebuild better-sqlite3");
        expect(child.stderr).not.toContain("internal error");
        expect(child.stderr).not.toContain("writable");
      }
    } finally {
      rmSync(install, { recursive: true, force: true });
    }
  });
});
