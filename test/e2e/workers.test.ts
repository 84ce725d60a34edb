import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { jsonLines, project, runCli, summaryOf, waitFor } from "../helpers/cli.js";
import { experiments, storedRows } from "../helpers/store.js";

const HEADER = `import { Eval } from "evalrun";\n`;

describe("worker threads", () => {
  it("stops a task that blocks its thread past the timeout, and the rest of the run completes", async () => {
    const dir = project({
      "hang.eval.ts": `${HEADER}
Eval("hang", {
  data: Array.from({ length: 30 }, (_, i) => ({ input: i })),
  task: async (i: number) => {
    if (i === 7) for (;;) {} // never yields
    await new Promise((r) => setTimeout(r, 10));
    return i;
  },
  scores: [function ok() { return 1; }],
  timeout: 400,
  maxConcurrency: 6,
});
`,
    });
    // By default an eval with a timeout runs in worker threads: the only way such a task can be stopped.
    for (const args of [[], ["--workers", "2"]]) {
      const result = await runCli(["--jsonl", "--store", "s.db", ...args], { cwd: dir, timeoutMs: 20_000 });
      expect(result.code).toBe(1);
      const summary = summaryOf(result.stdout, "hang");
      expect(summary.metrics.rows?.metric).toBe(30);
      expect(summary.metrics.errors?.metric).toBe(1);
      expect(summary.scores.ok?.scored).toBe(29);
    }
    const rows = storedRows(path.join(dir, "s.db"));
    const late = rows.filter((r) => r.errored === 1).map((r) => JSON.parse(r.event));
    expect(late).toHaveLength(2);
    for (const row of late) {
      expect(row.row_index).toBe(7);
      expect(row.error.kind).toBe("timeout");
      expect(row.error.message).toContain(
        "its task or a scorer kept its worker thread busy (synchronous code that did not yield), so the thread was stopped and replaced",
      );
      // Its duration is its run alone, stopped at its timeout plus the margin (0.7 s), not both attempts (1.4 s+).
      expect(row.metrics.duration).toBeLessThan(1.35);
    }
  });

  it("re-runs the rows of a thread that dies, records the row that killed it, and loses or doubles nothing", async () => {
    const dir = project({
      "oom.eval.ts": `${HEADER}
Eval("oom", {
  data: Array.from({ length: 40 }, (_, i) => ({ input: i })),
  task: async (i: number) => {
    await new Promise((r) => setTimeout(r, 5));
    if (i === 13) {
      const hoard: number[][] = [];
      for (;;) hoard.push(new Array(100_000).fill(i));
    }
    return i;
  },
  scores: [function ok() { return 1; }],
  maxConcurrency: 8,
});
`,
    });
    const result = await runCli(
      ["--reporter", "jsonl,json", "--outfile", "json=report.json", "--workers", "2", "--store", "s.db"],
      { cwd: dir, env: { EVALRUN_WORKER_HEAP_MB: "48" }, timeoutMs: 60_000 },
    );
    expect(result.code).toBe(1);
    // The notes tell rows run again from the row recorded as an error (it had killed a thread before).
    const notes = (JSON.parse(readFileSync(path.join(dir, "report.json"), "utf8")) as { notes: string[] })
      .notes;
    expect(notes.join("\n")).toMatch(
      /A worker thread stopped \(ERR_WORKER_OUT_OF_MEMORY.*\): \d+ row\(s\) it held run again/,
    );
    expect(notes.join("\n")).toContain("1 row(s) that had killed a thread before are recorded as errors");
    const summary = summaryOf(result.stdout, "oom");
    expect(summary.metrics.rows?.metric).toBe(40);
    expect(summary.metrics.errors?.metric).toBe(1);
    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    const rows = storedRows(path.join(dir, "s.db"));
    expect(rows).toHaveLength(40);
    expect(new Set(rows.map((r) => r.row_index)).size).toBe(40);
    const failed = rows.filter((r) => r.errored === 1).map((r) => JSON.parse(r.event));
    expect(failed.map((r) => r.row_index)).toEqual([13]);
    expect(failed[0].error.message).toContain("Its worker thread died while running it, twice");
    expect(failed[0].error.message).toContain("ERR_WORKER_OUT_OF_MEMORY");
  });

  it("never runs more rows at once than maxConcurrency and --max-concurrency, across threads", async () => {
    const evalOf = (name: string, cap: number) => `
Eval(${JSON.stringify(name)}, {
  data: Array.from({ length: 60 }, (_, i) => ({ input: i })),
  task: async (i: number) => {
    const at = () => performance.timeOrigin + performance.now();
    appendFileSync(process.env.LOG!, \`${name} start \${at()}\\n\`);
    const until = performance.now() + 4;
    while (performance.now() < until); // some CPU, so threads are really busy
    await new Promise((r) => setTimeout(r, 3));
    appendFileSync(process.env.LOG!, \`${name} end \${at()}\\n\`);
    return i;
  },
  scores: [function ok() { return 1; }],
  maxConcurrency: ${cap},
});`;
    const dir = project({
      "caps.eval.ts": `${HEADER}import { appendFileSync } from "node:fs";\n${evalOf("a", 3)}\n${evalOf("b", 5)}\n`,
    });
    const overlap = (log: string, only?: string) => {
      const events = readFileSync(log, "utf8")
        .trim()
        .split("\n")
        .map((line) => line.split(" "))
        .filter(([name]) => !only || name === only)
        .map(([, kind, at]) => ({ kind, at: Number(at) }))
        .sort((x, y) => x.at - y.at || (x.kind === "end" ? -1 : 1));
      let now = 0;
      let max = 0;
      for (const e of events) {
        now += e.kind === "start" ? 1 : -1;
        max = Math.max(max, now);
      }
      return { max, starts: events.filter((e) => e.kind === "start").length };
    };
    const free = path.join(dir, "free.log");
    const one = await runCli(["--workers", "2", "--no-store"], { cwd: dir, env: { LOG: free } });
    expect(one.code).toBe(0);
    expect(overlap(free, "a")).toEqual({ max: 3, starts: 60 });
    expect(overlap(free, "b")).toEqual({ max: 5, starts: 60 });
    expect(overlap(free).max).toBeGreaterThan(5);
    const capped = path.join(dir, "capped.log");
    const two = await runCli(["--workers", "2", "--max-concurrency", "4", "--no-store"], {
      cwd: dir,
      env: { LOG: capped },
    });
    expect(two.code).toBe(0);
    expect(overlap(capped).max).toBe(4);
    expect(overlap(capped, "a").max).toBeLessThanOrEqual(3);
    // Tasks that outlive their timeout and ignore their signal (an SDK call given none) still hold their slots.
    const late = project({
      "late.eval.ts": `${HEADER}import { appendFileSync } from "node:fs";
const at = () => performance.timeOrigin + performance.now();
Eval("late", {
  data: Array.from({ length: 8 }, (_, i) => ({ input: i })),
  task: async (i: number) => {
    appendFileSync(process.env.LOG!, \`late start \${at()}\\n\`);
    try {
      await new Promise((r) => setTimeout(r, 400));
    } finally {
      appendFileSync(process.env.LOG!, \`late end \${at()}\\n\`);
    }
    return i;
  },
  scores: [function ok() { return 1; }],
  maxConcurrency: 2,
  timeout: 250,
});
`,
    });
    for (const workers of ["0", "2"]) {
      const log = path.join(late, `late-${workers}.log`);
      const run = await runCli(["--workers", workers, "--no-store"], { cwd: late, env: { LOG: log } });
      expect(run.stdout).toMatch(/rows\s+8 · 8 errors/);
      expect(overlap(log)).toEqual({ max: 2, starts: 8 });
    }
  });

  it("gives the same results in worker threads as in the main thread", async () => {
    const dir = project({
      "same.eval.ts": `${HEADER}
// An output JSON keeps only through its toJSON (a library's value), with bytes and a date: stored as JSON has them.
class Money { constructor(readonly cents: number) {} toJSON() { return { usd: this.cents / 100 }; } }
Eval("same", {
  data: async function* () {
    for (let i = 0; i < 40; i++) yield { input: { n: i, text: "x".repeat(i % 7) }, expected: i % 3, metadata: { group: i % 4 } };
  },
  task: async (input: { n: number; text: string }, hooks) => {
    if (input.n % 11 === 5) throw new Error("task fails for " + input.n);
    hooks.meta({ seen: input.n, trial: hooks.trialIndex });
    // After the row's end: in no result, in either mode (threads posted whichever rows still waited to be sent).
    setImmediate(() => { hooks.meta({ late: true }); hooks.tags.push("late"); });
    if (input.n % 13 === 7) return { price: new Money(input.n * 100), raw: Buffer.from("hi"), at: new Date(0) };
    return input.n % 3 === hooks.trialIndex % 3 ? input.n % 3 : -1;
  },
  scores: [
    function exact({ output, expected }: any) { return output === expected; },
    function half({ input }: any) { return input.n % 2 === 0 ? 0.5 : null; },
    function picky({ input }: any) { if (input.n === 8) throw new Error("picky"); return [{ name: "len", score: input.text.length / 10 }]; },
  ],
  trialCount: 2,
});
`,
    });
    const inMain = await runCli(["--jsonl", "--workers", "0", "--store", "main.db"], { cwd: dir });
    const inThreads = await runCli(["--jsonl", "--workers", "2", "--store", "threads.db"], { cwd: dir });
    expect(inThreads.code).toBe(inMain.code);
    const strip = (s: ReturnType<typeof summaryOf>) => ({
      scores: s.scores,
      rows: s.metrics.rows,
      errors: s.metrics.errors,
    });
    expect(strip(summaryOf(inThreads.stdout, "same"))).toEqual(strip(summaryOf(inMain.stdout, "same")));
    const comparable = (file: string) =>
      storedRows(path.join(dir, file))
        .map((r) => {
          const { id: _id, metrics: _m, error, score_errors, ...rest } = JSON.parse(r.event);
          // Stacks name the bundle's lines identically, but frames below user code differ by thread.
          return { ...rest, error: error?.message, score_errors: score_errors && Object.keys(score_errors) };
        })
        .sort((a, b) => a.row_index - b.row_index || a.trial_index - b.trial_index);
    expect(comparable("threads.db")).toEqual(comparable("main.db"));
    expect(comparable("main.db")).toHaveLength(80);
    expect(comparable("threads.db").find((r) => r.row_index === 7)?.output).toEqual({
      price: { usd: 7 },
      raw: { type: "Buffer", data: [104, 105] },
      at: "1970-01-01T00:00:00.000Z",
    });
    expect(JSON.stringify(comparable("threads.db"))).not.toContain("late");
  });

  it("stores a task's non-string tags as text, in either mode, so the run's export imports again", async () => {
    const dir = project({
      "tags.eval.ts": `${HEADER}
Eval("tags", {
  data: [{ input: 0 }, { input: 1 }, { input: 2 }],
  task: (i: number, hooks) => {
    if (i === 1) (hooks.tags as unknown[]).push(5, null, { a: 1 }, "ok");
    if (i === 2) (hooks.meta as (x: unknown) => void)("not fields");
    return i;
  },
  scores: [() => 1],
});
`,
    });
    for (const workers of ["0", "2"]) {
      const store = `w${workers}.db`;
      const run = await runCli(["--workers", workers, "--store", store], {
        cwd: dir,
        env: { NO_COLOR: "1" },
      });
      expect(run.code, run.stdout).toBe(1);
      expect(run.stdout).toContain(
        'hooks.meta() takes an object of fields to merge into the row\'s metadata, e.g. meta({ model: "gpt-4o" }); it was given a string ("not fields").',
      );
      const rows = storedRows(path.join(dir, store)).map((r) => JSON.parse(r.event));
      expect(rows.find((r) => r.row_index === 1)?.tags, workers).toEqual(["5", '{"a":1}', "ok"]);
      const id = experiments(path.join(dir, store))[0]?.id as string;
      const exported = await runCli(["export", id, "--store", store], { cwd: dir });
      writeFileSync(path.join(dir, "e.jsonl"), exported.stdout);
      const imported = await runCli(["import", "e.jsonl", "--store", `again${workers}.db`], { cwd: dir });
      expect(imported.stderr).toBe("");
      expect(imported.code).toBe(0);
    }
  });

  it("keeps every row when a value is nested too deeply to copy or store: an error in threads, a marker in the main thread", async () => {
    const dir = project({
      "deep.eval.ts": `${HEADER}
function nest(depth: number) { let o: unknown = { leaf: 1 }; for (let i = 0; i < depth; i++) o = { c: o }; return o; }
const depth = Number(process.env.DEPTH);
Eval("deep", {
  data: Array.from({ length: 20 }, (_, i) => ({ input: i })),
  task: async (i: number) => { await new Promise((r) => setTimeout(r, 2)); return i === 5 ? nest(depth) : i; },
  scores: [() => 1],
});
`,
    });
    // Threads: the main thread cannot read the result back (it hung, its batch's rows lost, before).
    const threads = await runCli(["--workers", "2", "--store", "t.db"], { cwd: dir, env: { DEPTH: "3000" } });
    expect(threads.code).toBe(1);
    const stored = storedRows(path.join(dir, "t.db")).map((r) => JSON.parse(r.event));
    expect(stored.map((r) => r.row_index).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
    const failed = stored.filter((r) => r.error);
    expect(failed.map((r) => r.row_index)).toEqual([5]);
    expect(failed[0].error.message).toContain(
      "Its result could not be copied out of its worker thread, twice",
    );
    // Deeper than a thread can even send: the value is sent as its marker (the run hung, its batch lost, before).
    const deeper = await runCli(["--workers", "2", "--store", "d.db"], { cwd: dir, env: { DEPTH: "30000" } });
    expect(deeper.code).toBe(0);
    const deepRow = storedRows(path.join(dir, "d.db"))
      .map((r) => JSON.parse(r.event))
      .find((r) => r.row_index === 5);
    expect(deepRow.output).toMatch(/^\[unserializable: storing this value \(nested too deeply\?\)/);
    // The main thread: deeper than JSON can write here (the run crashed, the row lost, before).
    const main = await runCli(["--workers", "0", "--store", "m.db"], { cwd: dir, env: { DEPTH: "30000" } });
    expect(main.stderr).toBe("");
    expect(main.code).toBe(0);
    const row5 = storedRows(path.join(dir, "m.db"))
      .map((r) => JSON.parse(r.event))
      .find((r) => r.row_index === 5);
    expect(row5.output).toMatch(
      /^\[unserializable: storing this value \(nested too deeply\?\) threw RangeError/,
    );
  });

  it("never takes a busy thread for a blocked one: no false timeouts, no row run twice", async () => {
    // Each row logs its start. Threads that are busy (rows whose synchronous parts run back to back, a slow
    // top-level import) or whose heartbeats wait unread (the main thread running a synchronous task of its own)
    // used to be stopped as blocked: their rows timed out falsely or ran twice.
    const dir = project({
      "busy.eval.ts": `${HEADER}import { appendFileSync } from "node:fs";
const log = (line: string) => appendFileSync("starts.log", line + "\\n");
Eval("pooled", {
  data: Array.from({ length: 12 }, (_, i) => ({ input: i })),
  task: async (i: number) => { log("pooled " + i); await new Promise((r) => setTimeout(r, 150)); return i; },
  scores: [function s() { return 1; }],
  timeout: 600,
});
Eval("cpu", {
  data: Array.from({ length: 20 }, (_, i) => ({ input: i })),
  task: (i: number) => { log("cpu " + i); const end = performance.now() + 80; while (performance.now() < end); return i; },
  scores: [function s() { return 1; }],
  timeout: 400,
  maxConcurrency: 10,
});
Eval("main-hog", {
  data: [1, 2, 3].map((input) => ({ input })),
  task: async (x: number) => { await new Promise((r) => setTimeout(r, 50)); const end = Date.now() + 1000; while (Date.now() < end); return x; },
  scores: [function s() { return 1; }],
  maxConcurrency: 1,
});
`,
      "slow-top.eval.ts": `${HEADER}import { appendFileSync } from "node:fs";
const until = Date.now() + 1200; while (Date.now() < until);
Eval("slow-top", {
  data: Array.from({ length: 4 }, (_, i) => ({ input: i })),
  task: async (i: number) => { appendFileSync("starts.log", "slow-top " + i + "\\n"); await new Promise((r) => setTimeout(r, 20)); return i; },
  scores: [function s() { return 1; }],
  timeout: 500,
});
`,
    });
    const result = await runCli(["--no-store", "--jsonl"], { cwd: dir, timeoutMs: 60_000 });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    for (const name of ["pooled", "cpu", "main-hog", "slow-top"]) {
      expect(summaryOf(result.stdout, name).metrics.errors?.metric, name).toBe(0);
    }
    const starts = readFileSync(path.join(dir, "starts.log"), "utf8").trim().split("\n");
    // Every row started exactly once.
    expect(starts.length).toBe(new Set(starts).size);
    expect(starts.filter((l) => l.startsWith("pooled "))).toHaveLength(12);
    expect(starts.filter((l) => l.startsWith("cpu "))).toHaveLength(20);
    expect(starts.filter((l) => l.startsWith("slow-top "))).toHaveLength(4);
  }, 90_000);

  it("does not run again the rows that finished in a thread just before another row blocked it", async () => {
    const dir = project({
      "twice.eval.ts": `${HEADER}
import { appendFileSync } from "node:fs";
const spin = (ms: number) => { const end = Date.now() + ms; while (Date.now() < end) {} };
Eval("twice", {
  data: [0, 1, 2, 3].map((i) => ({ input: i })),
  // Four answers that come back together; the last one's row then holds the CPU past its timeout.
  task: async (i: number) => {
    await new Promise((r) => setTimeout(r, 100));
    appendFileSync("calls.log", "task " + i + "\\n");
    if (i === 3) spin(3000);
    return i;
  },
  scores: [() => 1],
  timeout: 500,
});
`,
    });
    const result = await runCli(["--no-store", "--workers", "1", "--no-progress"], {
      cwd: dir,
      timeoutMs: 30_000,
    });
    expect(result.stdout).toMatch(/rows\s+4 · 1 error \(1 timeout\)/);
    const calls = readFileSync(path.join(dir, "calls.log"), "utf8").trim().split("\n");
    // The blocking row runs again alone, to tell it from the others (isolation); the finished ones do not.
    expect(calls.filter((c) => c !== "task 3").sort()).toEqual(["task 0", "task 1", "task 2"]);
  }, 40_000);

  it("runs an eval whose rows cannot be cloned in the main thread, and says why once", async () => {
    const dir = project({
      "fn.eval.ts": `${HEADER}
class Client { ask(q: string) { return q.toUpperCase(); } }
const client = new Client();
Eval("fn", {
  data: [{ input: { q: "a", client } }, { input: { q: "b", client } }],
  task: (input: { q: string; client: Client }) => input.client.ask(input.q),
  scores: [function upper({ output }: any) { return output === output.toUpperCase(); }],
});
// Plain rows first: the instances come later, and the eval moves to the main thread when they do.
class Point { constructor(readonly x: number) {} }
Eval("later", {
  data: [{ input: 1 }, { input: 2 }, { input: new Point(3) }, { input: new Point(4) }],
  task: (input: unknown) => (input instanceof Point ? \`point \${input.x}\` : \`plain \${input}\`),
  scores: [function ok() { return 1; }],
});
// Image bytes for a multimodal model: a thread would get a bare Uint8Array, whose toString is "80,78,...".
Eval("bytes", {
  data: [{ input: { image: Buffer.from("PNGDATA") }, expected: "UE5HREFUQQ==" }],
  task: (input: { image: Buffer }) => input.image.toString("base64"),
  scores: [function same({ output, expected }: any) { return output === expected; }],
});
// Expected errors: a thread would get a plain Error, without the subclass or its status.
class HttpError extends Error { constructor(message: string, readonly status: number) { super(message); } }
Eval("errors", {
  data: [
    { input: "/missing", expected: new HttpError("not found", 404) },
    { input: "/plain", expected: Object.assign(new Error("gone"), { status: 410 }) },
  ],
  task: (path: string) => (path === "/missing" ? 404 : 410),
  scores: [function status({ output, expected }: any) { return output === expected.status; }],
});
// A plain Error (message, stack, cause) arrives as it is: the eval stays in the threads.
Eval("plainErrors", {
  data: [{ input: 1, expected: new TypeError("bad", { cause: new Error("root") }) }],
  task: () => "TypeError",
  scores: [function kind({ output, expected }: any) { return output === expected.constructor.name && expected.cause.message === "root"; }],
});
`,
    });
    const result = await runCli(["--workers", "2", "--export", "out", "--store", "s.db"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/upper\s+100\.0%\s+2 scored/);
    expect(result.stdout).toContain(
      'Eval "fn": row 0.input.client is an instance of Client, which cannot be sent to a worker thread; it runs in the main thread instead.',
    );
    expect(result.stdout).toContain(
      'Eval "later": row 2.input is an instance of Point, which cannot be sent to a worker thread; it runs in the main thread instead.',
    );
    expect(result.stdout).toContain(
      'Eval "bytes": row 0.input.image is an instance of Buffer, which cannot be sent to a worker thread; it runs in the main thread instead.',
    );
    expect(result.stdout).toMatch(/same\s+100\.0%\s+1 scored/);
    expect(result.stdout).toContain(
      'Eval "errors": row 0.expected is an instance of HttpError, which cannot be sent to a worker thread; it runs in the main thread instead.',
    );
    expect(result.stdout).toMatch(/status\s+100\.0%\s+2 scored/);
    expect(result.stdout).toMatch(/kind\s+100\.0%\s+1 scored/);
    expect(result.stdout.match(/cannot be sent to a worker thread/g)).toHaveLength(4);
    const outputs = jsonLines(readFileSync(path.join(dir, "out", "later.jsonl"), "utf8"))
      .slice(1)
      .map((r) => (r as { output: string }).output)
      .sort();
    expect(outputs).toEqual(["plain 1", "plain 2", "point 3", "point 4"]);
  });

  it("falls back to the main thread when the eval file fails only in a worker", async () => {
    const dir = project({
      "main-only.eval.ts": `${HEADER}
import { isMainThread } from "node:worker_threads";
if (!isMainThread) throw new Error("this file needs the main thread (it reads process.stdin)");
Eval("main-only", { data: [{ input: 1 }, { input: 2 }], task: (x: number) => x * 2, scores: [function ok() { return 1; }] });
`,
    });
    const result = await runCli(["--workers", "2", "--no-store"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/ok\s+100\.0%\s+2 scored/);
    expect(result.stdout).toContain(
      'Eval "main-only": its file failed to load in a worker thread (Error: this file needs the main thread (it reads process.stdin)); it runs in the main thread instead.',
    );
  });

  it("runs in the main thread an eval whose file never finishes loading in a worker, or exits there", async () => {
    const dir = project({
      "spin.eval.ts": `${HEADER}
import { isMainThread } from "node:worker_threads";
if (!isMainThread) { while (true) {} }
Eval("spin", { data: [1, 2, 3].map((input) => ({ input })), task: (x: number) => x * 2, scores: [function ok() { return 1; }], timeout: 5000 });
`,
      "wait.eval.ts": `${HEADER}
import { isMainThread } from "node:worker_threads";
if (!isMainThread) await new Promise(() => {});
Eval("wait", { data: [1, 2].map((input) => ({ input })), task: (x: number) => x * 2, scores: [function ok2() { return 1; }], timeout: 5000 });
`,
      "exits.eval.ts": `${HEADER}
import { isMainThread } from "node:worker_threads";
if (!isMainThread) process.exit(0);
Eval("exits", { data: [{ input: 1 }], task: (x: number) => x, scores: [function ok3() { return 1; }] });
`,
      "fine.eval.ts": `${HEADER}
Eval("fine", { data: [1, 2, 3, 4].map((input) => ({ input })), task: (x: number) => x, scores: [function ok4() { return 1; }], timeout: 5000 });
`,
    });
    const started = Date.now();
    const result = await runCli(["--workers", "2", "--store", "s.db"], {
      cwd: dir,
      env: { EVALRUN_WORKER_LOAD_MS: "1500" },
      timeoutMs: 60_000,
    });
    expect(result.code).toBe(0);
    for (const scorer of ["ok", "ok2", "ok3", "ok4"])
      expect(result.stdout).toMatch(new RegExp(`${scorer}\\s+100\\.0%`));
    for (const name of ["spin", "wait"])
      expect(result.stdout).toContain(
        `Eval "${name}": its file did not finish loading in a worker thread within 1.5 s (its top-level code blocks there, or awaits what only the main thread settles; EVALRUN_WORKER_LOAD_MS allows longer); it runs in the main thread instead.`,
      );
    expect(result.stdout).toContain(
      'Eval "exits": its file failed to load in a worker thread (process.exit(0) was called by its top-level code); it runs in the main thread instead.',
    );
    // Every row once, none recorded as a timeout: no row had started in the stuck threads.
    const rows = storedRows(path.join(dir, "s.db")).map((r) => JSON.parse(r.event));
    expect(rows).toHaveLength(3 + 2 + 1 + 4);
    expect(rows.filter((r) => r.error)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);

  it("keeps rows of other files that run in a thread whose import of a file never ends, and runs each once", async () => {
    const dir = project({
      "a_ok.eval.ts": `${HEADER}import { appendFileSync } from "node:fs";
Eval("ok", {
  data: [1, 2].map((input) => ({ input })),
  task: async (x: number) => {
    appendFileSync(process.env.LOG!, "call\\n");
    await new Promise((r) => setTimeout(r, 2500));
    return x;
  },
  scores: [function fine() { return 1; }],
  timeout: 10_000,
});
`,
      "z_wait.eval.ts": `${HEADER}import { isMainThread } from "node:worker_threads";
if (!isMainThread) await new Promise(() => {});
Eval("wait", { data: [{ input: 1 }], task: (x: number) => x, scores: [function waited() { return 1; }], timeout: 5000 });
`,
    });
    // First the stuck file sorts after the other: the thread that awaits its import runs the other file's rows to
    // their end, none stopped and run again. Then before it: the other file's import, and its rows, wait behind the
    // stuck one in the thread, and go elsewhere.
    for (const stuck of ["z_wait.eval.ts", "0_wait.eval.ts"]) {
      if (stuck === "0_wait.eval.ts") {
        writeFileSync(path.join(dir, stuck), readFileSync(path.join(dir, "z_wait.eval.ts"), "utf8"));
        rmSync(path.join(dir, "z_wait.eval.ts"));
      }
      const log = path.join(dir, `calls-${stuck}.log`);
      const result = await runCli(["--workers", "1", "--no-store"], {
        cwd: dir,
        env: { EVALRUN_WORKER_LOAD_MS: "1000", LOG: log },
        timeoutMs: 30_000,
      });
      expect(result.code, stuck).toBe(0);
      expect(result.stdout).toMatch(/fine\s+100\.0%\s+2 scored/);
      expect(result.stdout).toMatch(/waited\s+100\.0%\s+1 scored/);
      expect(result.stdout).toContain(
        'Eval "wait": its file did not finish loading in a worker thread within 1 s',
      );
      expect(readFileSync(log, "utf8").trim().split("\n"), stuck).toHaveLength(2);
    }
  }, 60_000);

  it("records process.exit() and a floating rejection in a task against their rows, not the run", async () => {
    const dir = project({
      "rude.eval.ts": `${HEADER}
Eval("rude", {
  data: Array.from({ length: 6 }, (_, i) => ({ input: i })),
  task: async (i: number) => {
    if (i === 1) process.exit(3);
    if (i === 4) void Promise.reject(new Error("nobody awaited this"));
    if (i === 5) {
      setTimeout(() => { throw new Error("first: the root cause"); }, 1);
      setTimeout(() => { throw new Error("second: a consequence"); }, 5);
    }
    await new Promise((r) => setTimeout(r, 20));
    return i;
  },
  scores: [function ok() { return 1; }],
});
`,
    });
    const result = await runCli(["--workers", "2", "--store", "s.db"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/rows\s+6 · 3 errors/);
    const failed = storedRows(path.join(dir, "s.db"))
      .map((r) => JSON.parse(r.event))
      .filter((r) => r.error)
      .sort((a, b) => a.row_index - b.row_index);
    expect(failed.map((r) => r.row_index)).toEqual([1, 4, 5]);
    expect(failed[0].error.message).toContain(
      "ProcessExit: process.exit(3) was called; under evalrun it ends this row, not the run",
    );
    expect(failed[1].error.message).toContain("An error escaped the task");
    expect(failed[1].error.message).toContain("nobody awaited this");
    // The first error a row lets escape, usually the cause; not the last.
    expect(failed[2].error.message).toContain("first: the root cause");
  });

  it("names an error a file's top-level code leaves in each worker thread once, as the eval code's, not a task's", async () => {
    const dir = project({
      "pool.eval.ts": `${HEADER}import { isMainThread } from "node:worker_threads";
// A client that fails to connect only in the threads, after the file has loaded.
if (!isMainThread) setTimeout(() => void Promise.reject(new Error("pool connect failed")), 5);
Eval("pool", {
  data: Array.from({ length: 6 }, (_, i) => ({ input: i })),
  task: async (i: number) => { await new Promise((r) => setTimeout(r, 30)); return i; },
  scores: [() => 1],
});
`,
    });
    const result = await runCli(["--workers", "2", "--no-store"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/rows\s+6 · 0 errors/);
    const notes = result.stdout.split("\n").filter((l) => l.includes("pool connect failed"));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(
      /An error escaped the eval code in a worker thread, outside any row .*pool\.eval\.ts:4:\d+\) \(2 times\)/,
    );
  });

  it("records a timed-out row at its timeout while its slot stays held: kept at Ctrl-C, not run again when its task blocks", async () => {
    const dir = project({
      "held.eval.ts": `${HEADER}import { appendFileSync, writeFileSync } from "node:fs";
Eval("held", {
  data: Array.from({ length: 8 }, (_, i) => ({ input: i })),
  // An SDK call given no signal: it runs on for 20 s after the row's 1 s timeout.
  task: async (i: number) => {
    if (i === 0) writeFileSync(process.env.STARTED!, "yes");
    await new Promise((r) => setTimeout(r, 20_000));
    return i;
  },
  scores: [function ok() { return 1; }],
  maxConcurrency: 4,
  timeout: 1000,
});
`,
      "blocks.eval.ts": `${HEADER}import { appendFileSync } from "node:fs";
Eval("blocks", {
  data: Array.from({ length: 6 }, (_, i) => ({ input: i })),
  task: async (i: number) => {
    appendFileSync(process.env.LOG!, \`\${i}\\n\`);
    // Row 0's late answer is parsed for ever; the others' answers come after their timeout.
    await new Promise((r) => setTimeout(r, i === 0 ? 700 : 1500));
    if (i === 0) for (;;) {}
    return i;
  },
  scores: [function ok2() { return 1; }],
  timeout: 500,
});
`,
    });
    for (const workers of ["0", "2"]) {
      const started = path.join(dir, `started-${workers}`);
      const store = path.join(dir, `held-${workers}.db`);
      // Ctrl-C 0.5 s after the first four rows timed out, while they hold their slots (until 2 s): they are kept.
      const stopped = await runCli(["--workers", workers, "--store", store, "held.eval.ts"], {
        cwd: dir,
        env: { STARTED: started },
        onSpawn: (child) => {
          void waitFor(started, 10_000).then(() => setTimeout(() => child.kill("SIGINT"), 1500));
        },
      });
      expect(stopped.code, workers).toBe(130);
      expect(stopped.stdout, workers).toMatch(/rows\s+4 · 4 errors/);
      expect(storedRows(store).filter((r) => JSON.parse(r.event).error?.kind === "timeout")).toHaveLength(4);
    }
    // In a thread, row 0's task blocks it after the rows had timed out: their results are in, none runs again.
    const log = path.join(dir, "calls.log");
    const result = await runCli(["--workers", "1", "--no-store", "blocks.eval.ts"], {
      cwd: dir,
      env: { LOG: log },
      timeoutMs: 20_000,
    });
    expect(result.stdout).toMatch(/rows\s+6 · 6 errors/);
    expect(result.stdout).not.toContain("kept its worker thread busy");
    expect(readFileSync(log, "utf8").trim().split("\n").sort()).toEqual(["0", "1", "2", "3", "4", "5"]);
    // A late task that blocks its thread for good, beside rows with no timeout: the thread is still stopped (they
    // run again elsewhere) and the run ends.
    writeFileSync(
      path.join(dir, "plain.eval.ts"),
      `${HEADER}Eval("plain", { data: [1, 2, 3].map((input) => ({ input })), task: async (x: number) => { await new Promise((r) => setTimeout(r, 1000)); return x; }, scores: [function ok3() { return 1; }] });\n`,
    );
    const blocked = await runCli(["--workers", "1", "--no-store", "blocks.eval.ts", "plain.eval.ts"], {
      cwd: dir,
      env: { LOG: log },
      timeoutMs: 30_000,
    });
    expect(blocked.stdout).toMatch(/ok3\s+100\.0%\s+3 scored/);
    expect(blocked.stdout).toMatch(/rows\s+6 · 6 errors/);
    // One that starts its loop after every row has finished: the run's end stops its thread rather than wait.
    writeFileSync(
      path.join(dir, "end.eval.ts"),
      `${HEADER}Eval("endLoop", { data: [{ input: 1 }], task: async () => { await new Promise((r) => setTimeout(r, 400)); for (;;) {} }, scores: [], timeout: 300 });
Eval("other", { data: [{ input: 1 }], task: async (x: number) => { await new Promise((r) => setTimeout(r, 800)); return x; }, scores: [function ok4() { return 1; }], timeout: 5000 });\n`,
    );
    const ended = await runCli(["--workers", "2", "--no-store", "end.eval.ts"], {
      cwd: dir,
      timeoutMs: 15_000,
    });
    expect(ended.code).toBe(1);
    expect(ended.stdout).toMatch(/ok4\s+100\.0%\s+1 scored/);
    expect(ended.ms).toBeLessThan(8_000);
    // A late task that only awaits (a slow call) blocks nothing: another eval's synchronous steps, well within their
    // own timeout, do not get the thread stopped and their rows run twice.
    writeFileSync(
      path.join(dir, "awaits.eval.ts"),
      `${HEADER}Eval("awaits", { data: [{ input: 1 }], task: async () => { await new Promise((r) => setTimeout(r, 20_000)); }, scores: [], timeout: 300 });\n`,
    );
    writeFileSync(
      path.join(dir, "steps.eval.ts"),
      `${HEADER}import { appendFileSync } from "node:fs";
Eval("steps", { data: [1, 2].map((input) => ({ input })), task: async (x: number) => {
  appendFileSync(process.env.LOG!, "step\\n");
  await new Promise((r) => setTimeout(r, 500));
  const end = Date.now() + 1000; while (Date.now() < end) {}
  return x;
}, scores: [function ok5() { return 1; }], timeout: 10_000, maxConcurrency: 1 });\n`,
    );
    const stepsLog = path.join(dir, "steps.log");
    const steps = await runCli(["--workers", "1", "--no-store", "awaits.eval.ts", "steps.eval.ts"], {
      cwd: dir,
      env: { LOG: stepsLog },
      timeoutMs: 20_000,
    });
    expect(steps.stdout).toMatch(/ok5\s+100\.0%\s+2 scored/);
    expect(readFileSync(stepsLog, "utf8").trim().split("\n")).toHaveLength(2);
  }, 90_000);

  it("records a row that never settles, run alone after a block, while other rows wait for the thread", async () => {
    const dir = project({
      "a_never.eval.ts": `${HEADER}Eval("never", { data: [0, 1].map((input) => ({ input })), task: async (i: number) => { if (i === 0) await new Promise(() => {}); return i; }, scores: [function fine() { return 1; }] });\n`,
      "b_block.eval.ts": `${HEADER}Eval("block", { data: ["b", "y"].map((input) => ({ input })), task: async (k: string) => { await new Promise((r) => setTimeout(r, k === "b" ? 100 : 300)); if (k === "b") for (;;) {} return k; }, scores: [function fine2() { return 1; }], timeout: 500 });\n`,
    });
    const result = await runCli(["--workers", "1", "--no-store"], { cwd: dir, timeoutMs: 30_000 });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("The row never finished");
    expect(result.stdout).toContain("kept its worker thread busy");
    expect(result.stdout).toMatch(/fine\s+100\.0%\s+1 scored/);
    expect(result.stdout).toMatch(/fine2\s+100\.0%\s+1 scored/);
  }, 40_000);

  it("validates --workers", async () => {
    const dir = project({
      "a.eval.ts": `${HEADER}Eval("a", { data: [{ input: 1 }], task: (x: number) => x, scores: [] });\n`,
    });
    for (const value of ["-1", "two", "1.5"]) {
      const bad = await runCli(["--workers", value], { cwd: dir });
      expect(bad.code, value).toBe(2);
      expect(bad.stderr).toContain("--workers");
    }
    const huge = await runCli(["--workers", "1000", "--no-store"], { cwd: dir });
    expect(huge.code).toBe(0);
    expect(huge.stdout).toMatch(/--workers 1000 was capped at \d+ \(4 per core on this machine\)/);
    const digits = await runCli(["--workers", "99999999999999999999", "--no-store"], { cwd: dir });
    expect(digits.stdout).toMatch(/--workers 100000000000000000000 was capped at \d+/);
    writeFileSync(path.join(dir, "evalrun.config.mjs"), "export default { workers: 1000 };\n");
    const configured = await runCli(["--no-store"], { cwd: dir });
    expect(configured.stdout).toMatch(/The config's workers: 1000 was capped at \d+/);
    rmSync(path.join(dir, "evalrun.config.mjs"));
    for (const loadMs of ["50", "soon"]) {
      const bad = await runCli(["--workers", "1", "--no-store"], {
        cwd: dir,
        env: { EVALRUN_WORKER_LOAD_MS: loadMs },
      });
      expect(bad.code, loadMs).toBe(2);
      expect(bad.stderr).toContain(
        "EVALRUN_WORKER_LOAD_MS must be a whole number of milliseconds, 100 or more",
      );
    }
    // A heap cap no thread can start under (the run waited forever), or no number at all (ignored), is refused.
    for (const heap of ["4", "lots"]) {
      const bad = await runCli(["--workers", "1", "--no-store"], {
        cwd: dir,
        env: { EVALRUN_WORKER_HEAP_MB: heap },
      });
      expect(bad.code, heap).toBe(2);
      expect(bad.stderr).toContain("EVALRUN_WORKER_HEAP_MB must be a whole number of megabytes, 8 or more");
    }
  });
});
