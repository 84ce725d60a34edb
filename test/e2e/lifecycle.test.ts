import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { project, ROOT, runCli, summaryOf, waitFor } from "../helpers/cli.js";
import { experiments, storedRows } from "../helpers/store.js";

const HEADER = `import { Eval } from "evalrun";\n`;

describe("Ctrl-C", () => {
  it("stops scheduling, summarises the rows that finished and exits 130", async () => {
    const dir = project({
      "slow.eval.ts": `${HEADER}
import { writeFileSync } from "node:fs";
Eval("slow", {
  data: Array.from({ length: 200 }, (_, i) => ({ input: i })),
  task: async (i: number) => {
    if (i === 4) writeFileSync(process.env.STARTED!, "yes");
    await new Promise((r) => setTimeout(r, 100));
    return i;
  },
  scores: [function done() { return 1; }],
  maxConcurrency: 2,
});
`,
    });
    const started = path.join(dir, "started");
    const result = await runCli([], {
      cwd: dir,
      env: { STARTED: started },
      onSpawn: (child) => {
        void waitFor(started, 10_000).then(() => child.kill("SIGINT"));
      },
    });
    expect(result.code).toBe(130);
    expect(result.stderr).toContain("Stopping: no new rows start");
    expect(result.stdout).toContain("(interrupted)");
    const rows = Number(/rows\s+(\d+)/.exec(result.stdout)?.[1]);
    expect(rows).toBeGreaterThanOrEqual(5);
    expect(rows).toBeLessThan(200);
    expect(result.stdout).toMatch(/done\s+100\.0%/);
    expect(result.stdout).toContain("Interrupted:");
  });

  it("is heard during a row of millions of synchronous trials (a typo'd trialCount)", async () => {
    const dir = project({
      "many.eval.ts": `${HEADER}
import { writeFileSync } from "node:fs";
Eval("many", {
  data: [{ input: 1 }],
  task: (i: number, { trialIndex }) => {
    if (trialIndex === 1000) writeFileSync(process.env.STARTED!, "yes");
    return i;
  },
  scores: [],
  trialCount: 1e9,
});
`,
    });
    const started = path.join(dir, "started");
    const result = await runCli(["--no-store"], {
      cwd: dir,
      env: { STARTED: started },
      onSpawn: (child) => {
        void waitFor(started, 10_000).then(() => setTimeout(() => child.kill("SIGINT"), 300));
      },
    });
    expect(result.code).toBe(130);
    expect(result.stdout).toContain("Interrupted:");
    expect(Number(/rows\s+(\d+)/.exec(result.stdout)?.[1])).toBeGreaterThan(1000);
  });
});

describe("a stop signal while the eval files load", () => {
  it("ends the run at once when a file's top-level await holds the process (a CI timeout's SIGTERM)", async () => {
    const dir = project({
      "hang.eval.ts": `${HEADER}setInterval(() => {}, 1000);\nawait new Promise(() => {});\nEval("hang", { data: [{ input: 1 }], task: (x: number) => x, scores: [] });\n`,
    });
    let sentAt = 0;
    const result = await runCli(["--no-store"], {
      cwd: dir,
      env: { EVALRUN_STALL_NOTICE_MS: "500" },
      onSpawn: (child) => {
        setTimeout(() => {
          sentAt = Date.now();
          child.kill("SIGTERM");
        }, 2500);
      },
    });
    expect(result.code).toBe(143);
    // Before the signal, the run said what it waits on.
    expect(result.stderr).toContain(
      "evalrun: still loading hang.eval.ts after 0.5 s: its top-level code awaits something",
    );
    expect(Date.now() - sentAt).toBeLessThan(3000);
    expect(result.stderr).toContain("Stopped (SIGTERM) while loading the eval files; nothing ran.");
  }, 30_000);
});

describe("Ctrl-C with rows queued behind --max-concurrency", () => {
  it("starts no queued row after the stop, and a data source whose cleanup throws still gets its summary and 130", async () => {
    const dir = project({
      "queued.eval.ts": `${HEADER}
import { appendFileSync, writeFileSync } from "node:fs";
Eval("queued", {
  data: Array.from({ length: 20 }, (_, i) => ({ input: i })),
  task: async (i: number) => {
    appendFileSync(process.env.LOG!, \`\${Date.now()}\\n\`);
    if (i === 1) writeFileSync(process.env.STARTED!, "yes");
    await new Promise((r) => setTimeout(r, 400));
    return i;
  },
  scores: [function done() { return 1; }],
  maxConcurrency: 10,
});
Eval("cleanup", {
  data: async function* () { try { for (let i = 0; i < 100; i++) yield { input: i }; } finally { throw new Error("cleanup failed"); } },
  task: async (i: number) => { await new Promise((r) => setTimeout(r, 200)); return i; },
  scores: [function done() { return 1; }],
  maxConcurrency: 1,
});
`,
    });
    const started = path.join(dir, "started");
    const log = path.join(dir, "log");
    for (const workers of ["0", "2"]) {
      rmSync(log, { force: true });
      rmSync(started, { force: true });
      let stoppedAt = 0;
      const result = await runCli(["--max-concurrency", "1", "--workers", workers, "--no-store"], {
        cwd: dir,
        env: { STARTED: started, LOG: log },
        onSpawn: (child) => {
          void waitFor(started, 10_000).then(() => {
            stoppedAt = Date.now();
            child.kill("SIGINT");
          });
        },
      });
      expect(result.code).toBe(130);
      expect(result.stderr).not.toContain("internal error");
      expect(result.stdout).toMatch(/■ cleanup/);
      const starts = readFileSync(log, "utf8").trim().split("\n").map(Number);
      // Rows 0 and 1 started before the stop; none after it (one may be starting as the signal lands).
      expect(starts.filter((t) => t > stoppedAt + 50)).toEqual([]);
    }
  }, 60_000);
});

describe("Ctrl-C twice", () => {
  const files = {
    "stubborn.eval.ts": `${HEADER}
import { writeFileSync } from "node:fs";
Eval("stubborn", {
  data: Array.from({ length: 50 }, (_, i) => ({ input: i })),
  task: async (i: number) => {
    if (i === 2) writeFileSync(process.env.STARTED!, "yes");
    // Ignores its signal: only the grace period, or a second Ctrl-C, ends the wait.
    await new Promise((r) => setTimeout(r, i < 3 ? 10 : 60_000));
    return i;
  },
  scores: [function done() { return 1; }],
  maxConcurrency: 4,
});
`,
  };

  it("takes one signal delivered twice (a process and its group, as timeout sends it) as one Ctrl-C", async () => {
    const dir = project(files);
    const started = path.join(dir, "started");
    const result = await runCli(["--no-store"], {
      cwd: dir,
      env: { STARTED: started },
      onSpawn: (child) => {
        void waitFor(started, 10_000).then(() => {
          child.kill("SIGINT");
          child.kill("SIGINT");
        });
      },
    });
    expect(result.code).toBe(130);
    expect(result.stdout).toContain("Interrupted:");
    expect(result.stdout).toMatch(/rows\s+3 /);
  });

  it("quits at once on a second Ctrl-C, without waiting out the grace period", async () => {
    const dir = project(files);
    const started = path.join(dir, "started");
    let firstAt = 0;
    const result = await runCli(["--no-store"], {
      cwd: dir,
      env: { STARTED: started },
      onSpawn: (child) => {
        void waitFor(started, 10_000).then(() => {
          firstAt = Date.now();
          child.kill("SIGINT");
          setTimeout(() => child.kill("SIGINT"), 400);
        });
      },
    });
    expect(result.code).toBe(130);
    expect(result.stdout).not.toContain("Interrupted:");
    expect(Date.now() - firstAt).toBeLessThan(1_800);
  });
});

describe("Ctrl-C during synchronous work", () => {
  it("interrupts an eval whose task and scorers never await", async () => {
    const dir = project({
      "sync.eval.ts": `${HEADER}
import { existsSync, writeFileSync } from "node:fs";
Eval("sync", {
  data: Array.from({ length: 2_000_000 }, (_, i) => ({ input: i })),
  task: (i: number) => {
    if (i === 1000 && !existsSync(process.env.STARTED!)) writeFileSync(process.env.STARTED!, "yes");
    const until = performance.now() + 0.05;
    while (performance.now() < until);
    return i;
  },
  scores: [function done() { return 1; }],
});
`,
    });
    const started = path.join(dir, "started");
    const result = await runCli(["--no-store"], {
      cwd: dir,
      env: { STARTED: started },
      timeoutMs: 30_000,
      onSpawn: (child) => {
        void waitFor(started, 15_000).then(() => child.kill("SIGINT"));
      },
    });
    // Without yielding to the event loop the signal would wait for all 2,000,000 rows (~2 minutes).
    expect(result.code).toBe(130);
    expect(result.stdout).toContain("(interrupted)");
    const rows = Number(/rows\s+(\d+)/.exec(result.stdout)?.[1]);
    expect(rows).toBeGreaterThan(1000);
    expect(rows).toBeLessThan(2_000_000);
  });
});

describe("a task that blocks the main thread", () => {
  it("is pointed out on stderr, with the way out, while Ctrl-C cannot be handled", async () => {
    const dir = project({
      "block.eval.ts": `${HEADER}
Eval("block", {
  data: [{ input: 1 }, { input: 2 }],
  task: async (i: number) => {
    // The first row lets the event loop run while the watcher starts; the second never yields.
    if (i === 1) await new Promise((r) => setTimeout(r, 1000));
    else for (const until = Date.now() + 2500; Date.now() < until; );
    return i;
  },
  scores: [function done() { return 1; }],
  maxConcurrency: 1,
});
`,
      "calm.eval.ts": `${HEADER}
Eval("calm", {
  data: Array.from({ length: 6 }, (_, i) => ({ input: i })),
  task: async (i: number) => {
    await new Promise((r) => setTimeout(r, 200));
    return i;
  },
  scores: [function done() { return 1; }],
  maxConcurrency: 1,
});
`,
    });
    const env = { EVALRUN_STALL_NOTICE_MS: "600" };
    const blocked = await runCli(["block.eval.ts", "--no-store"], { cwd: dir, env });
    expect(blocked.code).toBe(0);
    expect(blocked.stderr).toContain("evalrun: the main thread has been busy for 0.6 s without a break");
    expect(blocked.stderr).toContain("Ctrl-\\ quits now");
    expect(blocked.stdout).toMatch(/rows\s+2 · 0 errors/);
    // A run that waits (1.2 s of timers, past the 0.6 s threshold) is never blocked: no notice.
    const calm = await runCli(["calm.eval.ts", "--no-store"], { cwd: dir, env });
    expect(calm.code).toBe(0);
    expect(calm.stderr).not.toContain("busy");
  });
});

describe("a reader that closes the pipe early (evalrun | head)", () => {
  it("lets the run finish and store every row, and keeps its exit code", async () => {
    const evals = Array.from(
      { length: 40 },
      (_, i) =>
        `Eval("e${i}", { data: [{ input: 1 }, { input: 2 }], task: (x: number) => x, scores: [function s() { return 0.5; }] });`,
    ).join("\n");
    const dir = project({ "package.json": "{}", "many.eval.ts": `${HEADER}${evals}\n` });
    const result = await runCli(["--no-progress", "--min-score", "s=0.9"], {
      cwd: dir,
      onSpawn: (child) => child.stdout?.once("data", () => child.stdout?.destroy()),
    });
    // The gate fails: exit 1, whatever became of stdout.
    expect(result.code).toBe(1);
    const list = await runCli(["experiments", "--json"], { cwd: dir });
    const stored = JSON.parse(list.stdout) as Array<{
      status: string;
      summary: { metrics: { rows: { metric: number } } };
    }>;
    expect(stored).toHaveLength(40);
    for (const e of stored) {
      expect(e.status).toBe("complete");
      expect(e.summary.metrics.rows.metric).toBe(2);
    }
  });
});

describe("evalrun init", () => {
  it("leaves paths out of the config when eval files exist outside evals/, so they keep running", async () => {
    const dir = project({
      "package.json": JSON.stringify({ name: "ported", private: true, type: "module" }),
      "src/mine.eval.ts": `${HEADER}Eval("mine", { data: [{ input: 1 }], task: (x: number) => x, scores: [] });\n`,
    });
    const init = await runCli(["init"], { cwd: dir });
    expect(init.stdout).toContain("found 1 eval file(s) outside evals/ (src/mine.eval.ts)");
    expect(readFileSync(path.join(dir, "evalrun.config.ts"), "utf8")).toMatch(/^\s*\/\/ paths: \["evals"\]/m);
    const listed = await runCli(["--list", "--jsonl"], { cwd: dir });
    expect(
      listed.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).name)
        .sort(),
    ).toEqual(["example", "mine"]);
  });

  it("writes a starter eval and config that run, and never overwrites a file", async () => {
    const dir = project({ "package.json": JSON.stringify({ name: "my-app", private: true }) });
    const first = await runCli(["init"], { cwd: dir });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("create evals/example.eval.ts");
    expect(first.stdout).toContain("create evalrun.config.ts");
    const run = await runCli([], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/✔ example/);
    expect(run.stdout).toMatch(/exactMatch\s+100\.0%\s+3 scored/);
    expect(run.stdout).toMatch(/Levenshtein\s+100\.0%\s+3 scored/);

    writeFileSync(path.join(dir, "evalrun.config.ts"), "// mine\nexport default {};\n");
    const second = await runCli(["init"], { cwd: dir });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("skip   evals/example.eval.ts (already exists");
    expect(second.stdout).toContain("skip   evalrun.config.ts");
    expect(readFileSync(path.join(dir, "evalrun.config.ts"), "utf8")).toBe("// mine\nexport default {};\n");
  });

  it("leaves a project's config of another extension alone, and a run refuses two config files", async () => {
    const dir = project({
      "package.json": JSON.stringify({ name: "my-app", private: true, type: "module" }),
      "evalrun.config.mjs": 'export default { paths: ["tests/evals"] };\n',
      "tests/evals/mine.eval.ts": `${HEADER}Eval("mine", { data: [{ input: 1 }], task: (x: number) => x, scores: [() => 1] });\n`,
    });
    const init = await runCli(["init"], { cwd: dir });
    expect(init.stdout).toContain("skip   evalrun.config.ts (evalrun.config.mjs is this project's config)");
    expect(existsSync(path.join(dir, "evalrun.config.ts"))).toBe(false);
    const run = await runCli(["--no-store"], { cwd: dir });
    expect(run.stdout).toContain("✔ mine");
    expect(run.stdout).not.toContain("example");
    // In a subdirectory, the project's config is the parent's, and the starter eval goes to the project's root;
    // its config's paths leave evals/ out, so init names the file to run rather than promise a plain run.
    mkdirSync(path.join(dir, "sub"));
    rmSync(path.join(dir, "evals"), { recursive: true });
    const inSub = await runCli(["init"], { cwd: path.join(dir, "sub") });
    expect(inSub.stdout).toContain("create ../evals/example.eval.ts");
    expect(inSub.stdout).toContain(
      "skip   ../evalrun.config.ts (../evalrun.config.mjs is this project's config)",
    );
    expect(inSub.stdout).toContain(
      "Next: npx evalrun ../evals/example.eval.ts runs it (a plain npx evalrun runs the files ../evalrun.config.mjs selects).",
    );
    expect(existsSync(path.join(dir, "sub", "evals"))).toBe(false);
    expect(existsSync(path.join(dir, "sub", "evalrun.config.ts"))).toBe(false);
    writeFileSync(path.join(dir, "evalrun.config.js"), "export default {};\n");
    const two = await runCli(["--no-store"], { cwd: dir });
    expect(two.code).toBe(2);
    expect(two.stderr).toContain("config files in");
    expect(two.stderr).toContain("evalrun.config.mjs, evalrun.config.js; evalrun would use only the first.");
  });
});

describe("Eval() outside the CLI", () => {
  it("runs the eval and prints its summary when the file is run directly", async () => {
    const dir = project({
      "direct.eval.mjs": `import { Eval } from ${JSON.stringify(pathToFileURL(path.join(ROOT, "dist/index.js")).href)};
const result = await Eval("direct", {
  data: [{ input: "a", expected: "a" }, { input: "b", expected: "c" }],
  task: (x) => x,
  scores: [function exact({ output, expected }) { return output === expected; }],
});
console.log("resolved", result.name, result.summary.scores.exact.score);
// Braintrust's camelCase names, beside the API's snake_case ones (which JSON keeps).
console.log("names", result.summary.projectName, result.summary.experimentName === result.summary.experiment_name, "projectName" in JSON.parse(JSON.stringify(result.summary)));
console.log("results", JSON.stringify(result.results.map((r) => [r.input, r.output, r.scores.exact])));
`,
      // Run by itself, the file still follows the project's config (its store) and .env.
      "evalrun.config.mjs": 'export default { store: "custom.db" };\n',
    });
    const { spawnSync } = await import("node:child_process");
    const child = spawnSync(process.execPath, ["direct.eval.mjs"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
    expect(child.status).toBe(0);
    expect(child.stdout).toMatch(/✔ direct {2}direct\.eval\.mjs/);
    expect(child.stdout).toMatch(/exact\s+50\.0%\s+2 scored/);
    expect(child.stdout).toContain("resolved direct 0.5");
    expect(child.stdout).toContain("names direct true false");
    expect(child.stdout).toContain('results [["a","a",1],["b","b",0]]');
    expect(existsSync(path.join(dir, "custom.db"))).toBe(true);
    expect(existsSync(path.join(dir, ".evalrun"))).toBe(false);
  });

  it("runs two Eval()s of one file at once against their committed baselines (the imports shared no lock)", async () => {
    const evalrun = JSON.stringify(pathToFileURL(path.join(ROOT, "dist/index.js")).href);
    const dir = project({
      "two.eval.mjs": `import { Eval } from ${evalrun};
const data = [{ input: 1, expected: 1 }, { input: 2, expected: 3 }];
const scores = [function eq({ output, expected }) { return output === expected; }];
await Promise.all([
  Eval("alpha", { data, task: async (x) => x, scores }),
  Eval("beta", { data, task: async (x) => x, scores }),
]);
`,
    });
    const run = () =>
      spawnSync(process.execPath, ["two.eval.mjs"], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, NO_COLOR: "1" },
        timeout: 60_000,
      });
    expect(run().status).toBe(0);
    expect((await runCli(["baseline", "save"], { cwd: dir })).code).toBe(0);
    // A fresh store: each run imports its eval's committed baseline as it starts, both in one process.
    rmSync(path.join(dir, ".evalrun"), { recursive: true });
    const second = run();
    expect(second.stderr).not.toContain("SQLITE_BUSY");
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/baseline\s+__baselines__\/alpha\.jsonl@\w+ · 2 rows matched/);
    expect(second.stdout).toMatch(/baseline\s+__baselines__\/beta\.jsonl@\w+ · 2 rows matched/);
  });

  it("resolves Eval() at once under the CLI, with an empty summary (as Braintrust's CLI does), and runs the eval", async () => {
    const dir = project({
      "awaited.eval.ts": `${HEADER}
const result = await Eval("awaited", { data: [{ input: 1 }], task: (x: number) => x, scores: [() => 1] });
if (result.summary.project_name !== "awaited" || result.results.length !== 0) throw new Error("unexpected");
Eval("then", { data: [{ input: 2 }], task: (x: number) => x, scores: [() => 1] }).then((r) => {
  if (Object.keys(r.summary.scores).length !== 0) throw new Error("unexpected");
});
`,
    });
    const result = await runCli(["--jsonl"], { cwd: dir });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(summaryOf(result.stdout, "awaited").metrics.rows?.metric).toBe(1);
    expect(summaryOf(result.stdout, "then").metrics.rows?.metric).toBe(1);
  });

  it("registers through globalThis even when the eval file resolves another copy of evalrun", async () => {
    const dir = project({
      "package.json": JSON.stringify({ name: "app", type: "module" }),
      "copy.eval.ts": `${HEADER}Eval("copy", { data: [{ input: 1 }], task: (x: number) => x, scores: [() => 1] });\n`,
    });
    const copy = path.join(dir, "node_modules", "evalrun");
    mkdirSync(copy, { recursive: true });
    cpSync(path.join(ROOT, "dist"), path.join(copy, "dist"), { recursive: true });
    cpSync(path.join(ROOT, "package.json"), path.join(copy, "package.json"));
    // The copy's own dependencies resolve from the real install.
    symlinkSync(path.join(ROOT, "node_modules"), path.join(copy, "node_modules"));
    const result = await runCli(["--jsonl"], { cwd: dir });
    expect(result.stderr).toBe("");
    expect(summaryOf(result.stdout, "copy").metrics.rows?.metric).toBe(1);
  });

  it("runEvals() returns the summaries (the CLI is a layer over it)", async () => {
    const dir = project({
      "api.eval.ts": `${HEADER}Eval("api", { data: [{ input: 2, expected: 4 }, { input: 3, expected: 6 }, { input: 4, expected: 9 }], task: (x: number) => x * 2, scores: [function doubled({ output, expected }: any) { return output === expected; }] });\n`,
    });
    const script = `
      const { runEvals } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, "dist/index.js")).href)});
      const result = await runEvals({ paths: ["."], cwd: ${JSON.stringify(dir)}, exportDir: "out" });
      console.log(JSON.stringify({ exitCode: result.exitCode, summaries: result.summaries }));
    `;
    const { spawnSync } = await import("node:child_process");
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(child.stderr).toBe("");
    const out = JSON.parse(child.stdout) as {
      exitCode: number;
      summaries: Array<{ project_name: string; scores: Record<string, { score: number }> }>;
    };
    expect(out.exitCode).toBe(0);
    expect(out.summaries).toHaveLength(1);
    expect(out.summaries[0]?.project_name).toBe("api");
    expect(out.summaries[0]?.scores.doubled?.score).toBeCloseTo(2 / 3, 10);
    // exportDir is relative to cwd, as paths and the store are.
    expect(existsSync(path.join(dir, "out", "api.jsonl"))).toBe(true);
  });

  it("runEvals() keeps every row when a reporter's onRow throws, and rejects with that error once they are stored", async () => {
    const dir = project({
      "api.eval.ts": `${HEADER}Eval("api", { data: Array.from({ length: 12 }, (_, i) => ({ input: i })), task: (x: number) => x, scores: [function one() { return 1; }] });\n`,
    });
    const script = `
      const { runEvals } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, "dist/index.js")).href)});
      let seen = 0;
      const broken = { onRow(ev, row) { if (row.row_index === 1) throw new Error("boom in onRow"); } };
      const counter = { onRow() { seen++; } };
      try {
        await runEvals({ cwd: ${JSON.stringify(dir)}, store: "s.db", workers: 0, reporters: [broken, counter] });
        console.log("resolved");
      } catch (error) {
        console.log(JSON.stringify({ rejected: error.message, seen }));
      }
      // A throwing onRunStart: nothing ran, and no empty "interrupted" experiment is left for --resume.
      const early = { onRunStart() { throw new Error("boom at start"); } };
      await runEvals({ cwd: ${JSON.stringify(dir)}, store: "t.db", workers: 0, reporters: [early] }).catch(() => {});
    `;
    const { spawnSync } = await import("node:child_process");
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(child.status).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual({ rejected: "boom in onRow", seen: 12 });
    const db = path.join(dir, "s.db");
    expect(storedRows(db)).toHaveLength(12);
    expect(experiments(path.join(dir, "t.db"))).toEqual([]);
  });

  it('runEvals() is there for CommonJS code too: require("evalrun")', async () => {
    const dir = project({
      "package.json": JSON.stringify({ name: "cjs-app", private: true }),
      "api.eval.ts": `${HEADER}Eval("api", { data: [{ input: 1 }], task: (x: number) => x, scores: [() => 1] });\n`,
    });
    mkdirSync(path.join(dir, "node_modules"));
    symlinkSync(ROOT, path.join(dir, "node_modules", "evalrun"));
    const script = `require("evalrun").runEvals({ paths: ["."], store: false }).then((r) => console.log("exit", r.exitCode, r.summaries[0].project_name));`;
    const { spawnSync } = await import("node:child_process");
    const child = spawnSync(process.execPath, ["-e", script], { cwd: dir, encoding: "utf8" });
    expect(child.stderr).toBe("");
    expect(child.stdout.trim().split("\n").at(-1)).toBe("exit 0 api");
  });

  it("runEvals() refuses the option values the CLI refuses as flags", async () => {
    const dir = project({
      "api.eval.ts": `${HEADER}Eval("api", { data: [{ input: 1 }], task: (x: number) => x, scores: [() => 1] });\n`,
    });
    const script = `
      const { runEvals } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, "dist/index.js")).href)});
      for (const bad of [{ trials: 0 }, { maxConcurrency: -3 }, { timeout: 3000000000 }, { workers: "lots" }, { maxErrorRate: 5 }, { maxConcurency: 2 }]) {
        try {
          await runEvals({ paths: ["."], cwd: ${JSON.stringify(dir)}, store: false, ...bad });
          console.log("ran", JSON.stringify(bad));
        } catch (error) {
          console.log(error.code, error.message);
        }
      }
      for (const call of [() => runEvals(null), () => runEvals({ cwd: ${JSON.stringify(dir)}, signal: "stop" })]) {
        try {
          await call();
        } catch (error) {
          console.error(error.code, error.message);
        }
      }
    `;
    const { spawnSync } = await import("node:child_process");
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    // Not an options object, and a signal that is not an AbortSignal: said as such, not as a TypeError.
    expect(child.stderr).toContain(
      "USAGE runEvals() takes an object of options (or nothing); it was given null.",
    );
    expect(child.stderr).toContain('USAGE runEvals(): signal must be an AbortSignal; got a string ("stop").');
    const lines = child.stdout.trim().split("\n");
    expect(lines).toHaveLength(6);
    // A misspelt option is refused with the likely name, as a misspelt flag or config key is.
    expect(lines.pop()).toBe(
      'USAGE runEvals() was given unknown option "maxConcurency". Did you mean "maxConcurrency"?',
    );
    for (const [line, key] of lines.map((l, i) => [
      l,
      ["trials", "maxConcurrency", "timeout", "workers", "maxErrorRate"][i],
    ])) {
      expect(line).toMatch(new RegExp(`^USAGE runEvals\\(\\) was given invalid options: ${key}: `));
    }
  });

  it("runEvals() checks gate and selection as the CLI checks their flags, and takes the config's rule strings", async () => {
    const dir = project({
      "api.eval.ts": `${HEADER}Eval("api", { data: Array.from({ length: 4 }, (_, i) => ({ input: i })), task: (x: number) => x, scores: [function low({ input }: any) { return input < 2 ? 0 : 1; }] });\n`,
    });
    const script = `
      const { runEvals } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, "dist/index.js")).href)});
      const tries = [
        { gate: { minScore: ["low=0.9"] } },
        { gate: { failOnRegresion: true } },
        { gate: { confidence: 2 } },
        { gate: { minScores: ["low=0.9"] } },
        { selection: { first: 0 } },
        { selection: { shard: { index: 3, total: 2 } } },
        { selection: { frist: 2 } },
        { resume: true, retryErrors: true, store: "s.db" },
        { reporters: {} },
        { graceMs: -100 },
        { passWithNoEvals: "no" },
        { retryErrors: "true" },
        { baseline: 5 },
        { reporters: [{ onRow: true }] },
        { cwd: ${JSON.stringify(dir)} + "/nope" },
      ];
      for (const extra of tries) {
        try {
          const result = await runEvals({ cwd: ${JSON.stringify(dir)}, store: false, ...extra });
          console.log("exit", result.exitCode, result.reasons.join(" | "));
        } catch (error) {
          console.log(error.code, error.message);
        }
      }
      const { listEvals } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, "dist/index.js")).href)});
      await listEvals({ cwd: ${JSON.stringify(dir)}, trials: "abc" }).then(() => console.log("listed"), (error) => console.log(error.code, error.message.slice(0, 37)));
    `;
    const { spawnSync } = await import("node:child_process");
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(child.stdout.trim().split("\n")).toEqual([
      'exit 1 api: low 50.0% is below its minimum 90.0% (gate.minScore "low=0.9" in runEvals()\'s gate)',
      'USAGE runEvals() was given unknown gate option "gate.failOnRegresion". Did you mean "gate.failOnRegression"?',
      "USAGE runEvals() was given invalid options: gate.confidence: Too big: expected number to be <1.",
      'USAGE runEvals(): gate.minScores takes parsed rules; got ["low=0.9"].',
      "USAGE runEvals(): selection.first must be a whole number of 1 or more; got 0.",
      'USAGE runEvals(): selection.shard must be { index, total } with 1 <= index <= total; got {"index":3,"total":2}.',
      'USAGE runEvals() was given unknown selection option "selection.frist". Did you mean "selection.first"?',
      "USAGE runEvals(): resume and retryErrors cannot be used together.",
      "USAGE runEvals(): reporters must be an array of reporter objects.",
      "USAGE runEvals(): graceMs must be a number of milliseconds, 0 or more; got -100.",
      'USAGE runEvals(): passWithNoEvals must be true or false; got a string ("no").',
      // A truthy string was not true: the run was a full one, every row again.
      'USAGE runEvals(): retryErrors must be true or false; got a string ("true").',
      "USAGE runEvals(): baseline must be a non-empty string; got the number 5.",
      "USAGE runEvals(): reporters[0].onRow must be a function; got the boolean true.",
      `USAGE runEvals(): cwd ${path.join(dir, "nope")} does not exist.`,
      "USAGE listEvals() was given invalid options",
    ]);
  });

  it("runs two runEvals() at once in one process, each with its own evals", async () => {
    // The second run's load starts while the first's waits in a top-level await, and outlasts it: without turns,
    // the first put the registry back mid-load, and the second's eval ran directly instead of registering.
    const slow = (name: string, ms: number) =>
      `${HEADER}await new Promise((r) => setTimeout(r, ${ms}));\nEval("${name}", { data: [{ input: 1 }], task: (x: number) => x, scores: [() => 1] });\n`;
    const two = project({
      "a.eval.ts": slow("slow", 1000),
      "b.eval.ts": `${HEADER}Eval("two", { data: [{ input: 2 }], task: (x: number) => x, scores: [() => 1] });\n`,
    });
    const one = project({ "one.eval.ts": slow("one", 1500) });
    const script = `
      const { runEvals } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, "dist/index.js")).href)});
      // The second starts while the first waits in its slow file's top-level await, the registry in its hands.
      const results = await Promise.all([
        runEvals({ paths: ["."], cwd: ${JSON.stringify(two)}, store: false }),
        new Promise((r) => setTimeout(r, 500)).then(() => runEvals({ paths: ["."], cwd: ${JSON.stringify(one)}, store: false })),
      ]);
      console.log(JSON.stringify(results.map((r) => ({ exitCode: r.exitCode, names: r.summaries.map((s) => s.project_name).sort(), problems: r.problems.length }))));
    `;
    const { spawnSync } = await import("node:child_process");
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
    expect(child.stderr).toBe("");
    expect(JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "")).toEqual([
      { exitCode: 0, names: ["slow", "two"], problems: 0 },
      { exitCode: 0, names: ["one"], problems: 0 },
    ]);
    expect(existsSync(path.join(one, ".evalrun"))).toBe(false);
    expect(existsSync(path.join(two, ".evalrun"))).toBe(false);
  });

  it("runs one new file twice at once (each call compiles it), and names the eval file's own lines in errors", async () => {
    // A file no run compiled before: both calls write its bundle, which shared one temporary name.
    const dir = project({
      "fresh.eval.ts": `${HEADER}// ${Date.now()} ${Math.random()}
const helper = (x: number) => { if (x === 2) throw new Error("boom on line 3"); return x; };
Eval("fresh", { data: [{ input: 1 }, { input: 2 }], task: helper, scores: [() => 1] });
`,
    });
    const script = `
      const { runEvals } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, "dist/index.js")).href)});
      const errors = [];
      const reporters = [{ onRow(ev, row) { if (row.error) errors.push(row.error.stack.split("\\n")[1].trim()); } }];
      const settled = await Promise.allSettled([1, 2].map(() => runEvals({ cwd: ${JSON.stringify(dir)}, store: false, reporters })));
      console.log(JSON.stringify({ settled: settled.map((s) => s.status + ":" + (s.value?.exitCode ?? s.reason?.message)), errors }));
    `;
    const { spawnSync } = await import("node:child_process");
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(child.stderr).toBe("");
    const out = JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "");
    expect(out.settled).toEqual(["fulfilled:1", "fulfilled:1"]);
    // The host did not turn source maps on: runEvals() does, as the CLI does.
    for (const frame of out.errors) expect(frame).toMatch(/fresh\.eval\.ts:3:\d+\)?$/);
    expect(out.errors).toHaveLength(2);
  });
});

describe("this repository", () => {
  it("publishes types that a strict project with exactOptionalPropertyTypes type-checks, its own libraries' too", () => {
    const dir = project({
      "package.json": JSON.stringify({ type: "module" }),
      "tsconfig.json": JSON.stringify({
        compilerOptions: {
          strict: true,
          exactOptionalPropertyTypes: true,
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          noEmit: true,
          types: ["node"],
          skipLibCheck: false,
        },
      }),
      "a.eval.ts": `import { Eval, Levenshtein, runEvals, type RunEvalsOptions } from "evalrun";
Eval("x", { data: [{ input: "a", expected: "a" }], task: (s: string) => s, scores: [Levenshtein] });
const options: RunEvalsOptions = { paths: ["."] };
void runEvals(options);
`,
    });
    mkdirSync(path.join(dir, "node_modules"));
    symlinkSync(ROOT, path.join(dir, "node_modules", "evalrun"));
    symlinkSync(path.join(ROOT, "node_modules", "@types"), path.join(dir, "node_modules", "@types"));
    const tsc = spawnSync(process.execPath, [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", dir], {
      encoding: "utf8",
    });
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.status).toBe(0);
  });

  it("`npx evalrun` with no arguments runs examples/ and exits 0", async () => {
    // The store goes to a scratch directory: the tests leave no experiments in the checkout's own .evalrun/.
    const store = path.join(mkdtempSync(path.join(os.tmpdir(), "evalrun-examples-")), "store.db");
    const result = await runCli(["--jsonl"], { cwd: ROOT, timeoutMs: 30_000, env: { EVALRUN_STORE: store } });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(existsSync(store)).toBe(true);
    const names = result.stdout
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { project_name: string }).project_name);
    expect(names.length).toBeGreaterThanOrEqual(3);
    for (const line of result.stdout.trim().split("\n")) {
      const summary = JSON.parse(line) as {
        metrics: { rows: { metric: number }; errors: { metric: number } };
      };
      expect(summary.metrics.rows.metric).toBeGreaterThan(0);
      expect(summary.metrics.errors.metric).toBe(0);
    }
  });
});

describe("as installed from npm", () => {
  it("runs with only its dependencies: the files it publishes and the packages it lists, nothing else", () => {
    // What `npm i evalrun` gives: package.json's files, and its dependencies with theirs (npm installs them flat).
    const manifest = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      files: string[];
      dependencies: Record<string, string>;
    };
    const app = mkdtempSync(path.join(os.tmpdir(), "evalrun-installed-"));
    const modules = path.join(app, "node_modules");
    try {
      for (const entry of [...manifest.files, "package.json"]) {
        cpSync(path.join(ROOT, entry), path.join(modules, "evalrun", entry), { recursive: true });
      }
      const wanted = [...Object.keys(manifest.dependencies)];
      const linked = new Set<string>();
      for (let name = wanted.shift(); name !== undefined; name = wanted.shift()) {
        if (linked.has(name)) continue;
        linked.add(name);
        const source = path.join(ROOT, "node_modules", name);
        mkdirSync(path.dirname(path.join(modules, name)), { recursive: true });
        symlinkSync(source, path.join(modules, name));
        const own = JSON.parse(readFileSync(path.join(source, "package.json"), "utf8")) as {
          dependencies?: Record<string, string>;
          optionalDependencies?: Record<string, string>;
        };
        for (const dep of [
          ...Object.keys(own.dependencies ?? {}),
          ...Object.keys(own.optionalDependencies ?? {}),
        ]) {
          if (existsSync(path.join(ROOT, "node_modules", dep))) wanted.push(dep);
        }
      }
      writeFileSync(
        path.join(app, "package.json"),
        JSON.stringify({ name: "app", private: true, type: "module" }),
      );
      writeFileSync(path.join(app, "rows.csv"), "input,expected\nhello,hello\nworld,word\n");
      writeFileSync(
        path.join(app, "app.eval.ts"),
        `import { Eval, Levenshtein, ValidJSON, loadCsv } from "evalrun";
Eval("app", {
  data: loadCsv("rows.csv"),
  task: (x: string) => x,
  scores: [Levenshtein, (a: { output: string }) => ValidJSON({ output: JSON.stringify({ text: a.output }), schema: { type: "object", required: ["text"] } })],
  timeout: 5000,
});
`,
      );
      const bin = path.join(modules, "evalrun", "dist", "bin.js");
      const run = (args: string[]) =>
        spawnSync(process.execPath, [bin, ...args], {
          cwd: app,
          encoding: "utf8",
          env: { ...process.env, NO_COLOR: "1", EVALRUN_STORE: undefined, GITHUB_ACTIONS: undefined },
        });
      const first = run(["--workers", "2", "--ci", "--reporter", "default,junit,markdown"]);
      expect(first.stderr).not.toMatch(/Cannot find|ERR_|internal error/);
      expect(first.status, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/Levenshtein\s+90\.0%/);
      expect(first.stdout).toMatch(/ValidJSON\s+100\.0%/);
      expect(readFileSync(path.join(app, ".evalrun", "junit.xml"), "utf8")).toContain("<testsuites");
      const listed = run(["experiments", "--json"]);
      expect(listed.status).toBe(0);
      expect(JSON.parse(listed.stdout)).toHaveLength(1);
      expect(run(["init"]).stdout).toContain("create evals/example.eval.ts");
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });
});
