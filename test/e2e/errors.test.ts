import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { jsonLines, project, runCli, summaryOf } from "../helpers/cli.js";
import { experiments, storedRows } from "../helpers/store.js";

const HEADER = `import { Eval } from "evalrun";\n`;
const GOOD = `${HEADER}Eval("good", { data: [{ input: 1, expected: 1 }], task: (x: number) => x, scores: [function same({ output, expected }: any) { return output === expected; }] });\n`;

// Evals whose row, or data, waits on a promise nothing can ever settle.
const STUCK_ROW = `Eval("stuck-row", {
  data: [{ input: 1 }, { input: 2 }, { input: 3 }],
  task: (x: number) => (x === 2 ? new Promise(() => {}) : x),
  scores: [function ok() { return 1; }],
});
`;
const STUCK_DATA = `Eval("stuck-data", {
  data: async function* () { yield { input: 1 }; yield { input: 2 }; await new Promise(() => {}); },
  task: (x: number) => x,
  scores: [function ok() { return 1; }],
});
`;

/** The default store of a project. */
const storeOf = (dir: string) => path.join(dir, ".evalrun", "evalrun.db");

/** The events a project's store holds, by eval. */
function storedEventsOf(
  dir: string,
): (name: string) => Array<{ input: number; error?: { message: string } }> {
  const db = path.join(dir, ".evalrun", "evalrun.db");
  const rows = storedRows(db);
  const events = rows.map((r) => JSON.parse(r.event) as { input: number; error?: { message: string } });
  return (name) => {
    const seq = experiments(db).find((e) => e.project === name)?.seq;
    return events.filter((_, i) => rows[i]?.exp === seq);
  };
}

/**
 * No user mistake may surface as a raw stack trace (unless --verbose asks for it). One `at file:line:col` line
 * naming the user's code is fine; a stack is two frames in a row, or a frame in node's internals.
 */
function expectNoStack(text: string) {
  expect(text).not.toMatch(/^\s+at .+\n\s+at .+$/m);
  expect(text).not.toContain("node:internal");
}

describe("errors in the user's evals are data, and the run goes on", () => {
  it("records task errors, timeouts and scorer errors beside good rows", async () => {
    const dir = project({
      "mixed.eval.ts": `${HEADER}
function exact({ output, expected }: any) { return output === expected; }
function picky({ output }: any) { if (output === "C") throw new RangeError("picky cannot score C"); return 1; }
Eval("mixed", {
  data: [
    { input: "a", expected: "A" },
    { input: "b", expected: "B" },
    { input: "boom", expected: "BOOM" },
    { input: "c", expected: "C" },
    { input: "hang", expected: "HANG" },
  ],
  task: async (input: string) => {
    if (input === "boom") throw new TypeError("the task broke on purpose");
    if (input === "hang") await new Promise((resolve) => setTimeout(resolve, 60_000)); // ignores its signal
    return input.toUpperCase();
  },
  scores: [exact, picky],
  timeout: 300,
});
`,
    });
    const result = await runCli([], { cwd: dir, timeoutMs: 15_000 });
    expect(result.code).toBe(1);
    expect(result.ms).toBeLessThan(10_000); // the hung task does not hold the run
    const out = result.stdout;
    expect(out).toMatch(/rows\s+5 · 3 errors \(1 task, 1 timeout, 1 scorer\)/);
    // exact: a, b, c scored (boom and hang have no output) -> 3 of 3
    expect(out).toMatch(/exact\s+100\.0%\s+3 scored/);
    expect(out).toMatch(/picky\s+100\.0%\s+2 scored · 1 error/);
    expect(out).toContain("TypeError: the task broke on purpose");
    expect(out).toContain("Timed out after 300 ms");
    expect(out).toContain('Scorer "picky" threw RangeError: picky cannot score C');
    expect(out).toContain("mixed: 3 of 5 results errored");
    expectNoStack(result.output);

    const allowed = await runCli(["--max-error-rate", "0.6", "--jsonl"], { cwd: dir });
    expect(allowed.code).toBe(0);
    expect(summaryOf(allowed.stdout, "mixed").metrics.errors?.metric).toBe(3);
    const notEnough = await runCli(["--max-error-rate", "0.5", "--jsonl"], { cwd: dir });
    expect(notEnough.code).toBe(1);
  });

  it("names an errored row by its id too, where the data gives ids, on the terminal and in show", async () => {
    const dir = project({
      "package.json": JSON.stringify({ type: "module" }),
      "ids.eval.ts": `${HEADER}Eval("ids", {
  data: [{ id: "q1", input: 1 }, { id: "q2", input: 2 }],
  task: (x: number) => { if (x === 2) throw new Error("no answer"); return x; },
  scores: [],
});
`,
    });
    const run = await runCli(["--no-progress"], { cwd: dir });
    expect(run.stdout).toContain("row 1 (id q2) task  Error: no answer");
    const shown = await runCli(["show", experiments(path.join(dir, ".evalrun", "evalrun.db"))[0]?.id ?? ""], {
      cwd: dir,
    });
    expect(shown.stdout).toContain("row 1 (id q2) task  Error: no answer");
  });

  it("says what a thrown non-Error held, and an Error's cause", async () => {
    const dir = project({
      "thrown.eval.ts": `${HEADER}
const throwers: Record<string, () => unknown> = {
  object: () => { throw { status: 429, detail: "slow down" }; },
  string: () => Promise.reject("quota exceeded"),
  cause: () => { throw new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1:9") }); },
  aggregate: () => Promise.any([Promise.reject(new Error("provider a down")), Promise.reject("provider b quota")]),
  symbol: () => { throw Symbol("rate-limited"); },
  stray: () => { void Promise.reject(Object.assign(Object.create(null), { code: 7 })); return 1; },
};
Eval("thrown", {
  data: Object.keys(throwers).map((input) => ({ input })),
  task: (input: string) => throwers[input]?.(),
  scores: [function ok() { return 1; }],
});
Eval("thrown-scorer", {
  data: [{ input: 1 }],
  task: (x: number) => x,
  scores: [function rejects() { throw "no judge"; }],
});
`,
    });
    const result = await runCli(["--store", "s.db", "--no-progress"], { cwd: dir });
    expect(result.code).toBe(1);
    const events = storedRows(path.join(dir, "s.db")).map(
      (r) =>
        JSON.parse(r.event) as {
          input: unknown;
          error?: { message: string };
          score_errors?: Record<string, string>;
        },
    );
    const message = (input: string) => events.find((e) => e.input === input)?.error?.message;
    expect(message("aggregate")).toBe(
      'AggregateError: All promises were rejected (errors: Error: provider a down; the string "provider b quota")',
    );
    expect(message("object")).toBe('threw an object {"status":429,"detail":"slow down"}');
    expect(message("string")).toBe('threw the string "quota exceeded"');
    expect(message("cause")).toBe("TypeError: fetch failed (cause: Error: connect ECONNREFUSED 127.0.0.1:9)");
    expect(message("symbol")).toBe("threw a symbol (Symbol(rate-limited))");
    // A rejection of an object without a prototype is said, not replaced by evalrun's own TypeError.
    expect(result.stderr).toContain('An error escaped the eval code: an object {"code":7}');
    expect(events.find((e) => e.input === 1)?.score_errors?.rejects).toBe(
      'Scorer "rejects" threw the string "no judge"',
    );
  });

  it("aborts the row's signal on timeout so a well-behaved task stops", async () => {
    const dir = project({
      "abort.eval.ts": `${HEADER}
import { writeFileSync } from "node:fs";
Eval("abort", {
  data: [{ input: 1 }],
  task: (x: number, { signal }) => new Promise((resolve, reject) => {
    signal.addEventListener("abort", () => {
      writeFileSync(process.env.MARK!, String(signal.reason?.name));
      reject(signal.reason);
    });
  }),
  scores: [() => 1],
  timeout: 200,
});
`,
    });
    const mark = `${dir}/aborted.txt`;
    const result = await runCli(["--jsonl"], { cwd: dir, env: { MARK: mark } });
    expect(result.code).toBe(1);
    expect(summaryOf(result.stdout, "abort").metrics.errors?.metric).toBe(1);
    const { readFileSync } = await import("node:fs");
    expect(readFileSync(mark, "utf8")).toBe("TimeoutError");
  });

  it("gives a task that reads its signal after the timeout an aborted one, and scores no late output", async () => {
    const dir = project({
      "late.eval.ts": `${HEADER}
import { appendFileSync } from "node:fs";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
Eval("late", {
  data: [{ input: 1 }],
  task: async (x: number, hooks) => {
    await sleep(600);
    appendFileSync(process.env.LOG!, \`task aborted=\${hooks.signal.aborted} \${hooks.signal.reason?.name}\\n\`);
    return x;
  },
  scores: [function judge({ output }: any) { appendFileSync(process.env.LOG!, \`scored \${output}\\n\`); return 1; }],
  timeout: 200,
});
Eval("keepalive", { data: [{ input: 1 }], task: async () => { await sleep(1200); return 1; }, scores: [() => 1] });
`,
      "blocking.eval.ts": `${HEADER}
Eval("blocking", {
  data: [{ input: 1 }],
  task: (x: number) => { const end = Date.now() + 700; while (Date.now() < end) {} return x; },
  scores: [() => 1],
  timeout: 300,
});
`,
    });
    const { readFileSync, rmSync } = await import("node:fs");
    const log = `${dir}/log.txt`;
    for (const workers of ["0", "2"]) {
      rmSync(log, { force: true });
      const late = await runCli(["late.eval.ts", "--no-store", "--workers", workers], {
        cwd: dir,
        env: { LOG: log },
      });
      expect(late.code).toBe(1);
      expect(readFileSync(log, "utf8")).toBe("task aborted=true TimeoutError\n");
      // A task that blocked past its timeout is a timeout in every mode, not a pass in the main thread only.
      const result = await runCli(["blocking.eval.ts", "--no-store", "--workers", workers], { cwd: dir });
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/✘ blocking[\s\S]*row 0 timeout {2}Timed out after 300 ms/);
    }
  });

  it("points a task's stack trace at the .eval.ts line (source maps)", async () => {
    const dir = project({
      "lines.eval.ts": `${HEADER}
type Row = { input: string };
interface Unused { a: number }

function parse(text: string): number {
  const value = JSON.parse(text) as { n?: number };
  if (value.n === undefined) throw new Error("no n in " + text);
  return value.n;
}
Eval("lines", {
  data: [{ input: '{"n": 1}' }, { input: "{}" }] satisfies Row[],
  task: (input: string) => parse(input),
  scores: [() => 1],
});
`,
    });
    const result = await runCli([], { cwd: dir });
    expect(result.code).toBe(1);
    // `new Error` is on line 8, column 36 of the TypeScript source (type-only lines above it are erased in JS).
    expect(result.stdout).toContain("at lines.eval.ts:8:36");
    const verbose = await runCli(["--verbose"], { cwd: dir });
    expect(verbose.stdout).toMatch(/at parse \(.*lines\.eval\.ts:8:36\)/);
  });

  it("reports scorers that return values outside the contract, naming the scorer and the value", async () => {
    const dir = project({
      "scores.eval.ts": `${HEADER}
Eval("bad-scores", {
  data: [{ input: 1 }],
  task: (x: number) => x,
  scores: [
    function nan() { return Number.NaN; },
    function tooBig() { return 1.5; },
    function negative() { return -0.1; },
    function text() { return "0.5" as any; },
    function nothing() { return undefined as any; },
    function list() { return [{ name: "ok", score: 1 }, 0.5] as any; },
    function unnamed() { return { score: 1 } as any; },
    function yesNo() { return { name: "hit", score: true } as any; },
    function badName() { return { name: 7, score: 1 } as any; },
    function fine() { return [{ name: "a", score: 0.25 }, { name: "b", score: null }]; },
  ],
});
`,
    });
    const result = await runCli(["--verbose"], { cwd: dir });
    expect(result.code).toBe(1);
    const out = result.stdout;
    expect(out).toContain('Scorer "nan" returned NaN');
    expect(out).toContain('Scorer "tooBig" returned 1.5');
    expect(out).toContain('Scorer "negative" returned -0.1');
    expect(out).toContain('Scorer "text" returned a string ("0.5")');
    expect(out).toContain('Scorer "list" returned an array whose item 1 is the number 0.5');
    expect(out).toContain('Scorer "badName" returned an object whose `name` is the number 7');
    // As Braintrust reads them: undefined is not scored, a nameless score is the scorer's, a boolean is 1/0.
    expect(out).toMatch(/nothing\s+–\s+0 scored/);
    expect(out).toMatch(/unnamed\s+100\.0%\s+1 scored/);
    expect(out).toMatch(/hit\s+100\.0%\s+1 scored/);
    expect(out).toMatch(/a\s+25\.0%\s+1 scored/);
    expect(out).toMatch(/b\s+–\s+0 scored/);
  });

  it("says when a scorer gave no row a score (a missing return), and not when it scored some", async () => {
    const dir = project({
      "tone.eval.ts": `${HEADER}
Eval("tone", {
  data: [{ input: "a" }, { input: "b" }, { input: "c" }],
  task: (x: string) => x,
  scores: [
    async function Tone({ output }: { output: string }) { if (output === "z") { return 1; } },
    function Some({ output }: { output: string }) { return output === "a" ? 1 : null; },
  ],
});
`,
    });
    const result = await runCli(["--no-store"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /Tone\s+–\s+0 scored · no row got a score: it returned null or undefined for each/,
    );
    expect(result.stdout).toMatch(/Some\s+100\.0%\s+1 scored\n/);
  });

  it("stores every row when an output's toJSON or getter throws, marking what could not be kept", async () => {
    const dir = project({
      "values.eval.ts": `${HEADER}
const outputs: Record<string, () => unknown> = {
  plain: () => "fine",
  toJSON: () => ({ kept: 1, part: { toJSON() { throw new Error("toJSON exploded"); } } }),
  getter: () => ({ get x() { throw new Error("getter exploded"); }, y: 2n }),
  last: () => "fine too",
};
Eval("values", {
  data: Object.keys(outputs).map((input) => ({ input })),
  task: (input: string) => outputs[input]?.(),
  scores: [function ok() { return 1; }],
  timeout: 10000,
});
`,
    });
    for (const workers of ["0", "2"]) {
      const result = await runCli(["--workers", workers, "--no-progress"], { cwd: dir });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const rows = storedRows(path.join(dir, ".evalrun", "evalrun.db")).slice(-4);
      const outputs = Object.fromEntries(
        rows.map((r) => {
          const event = JSON.parse(r.event) as { input: string; output: unknown };
          return [event.input, event.output];
        }),
      );
      expect(outputs).toEqual({
        plain: "fine",
        toJSON: { kept: 1, part: "[unserializable: toJSON() threw Error: toJSON exploded]" },
        getter: { x: '[unserializable: reading "x" threw Error: getter exploded]', y: 2 },
        last: "fine too",
      });
      expect(experiments(path.join(dir, ".evalrun", "evalrun.db")).at(-1)?.status).toBe("complete");
    }
  });

  it("records rows and data whose promises can never settle, instead of ending silently with exit code 13", async () => {
    // Nothing is left for these promises to wait on: Node would end the process mid-run (exit 13, no output).
    const dir = project({
      "stuck.eval.ts": `${HEADER}
${STUCK_ROW}Eval("stuck-scorer", {
  data: [{ input: 1 }],
  task: (x: number) => x,
  scores: [function never() { return new Promise<number>(() => {}); }],
});
${STUCK_DATA}// In threads (it has a timeout): the pool must not keep the process alive once this eval is done.
Eval("threaded", { data: [{ input: 1 }], task: (x: number) => x, scores: [function ok() { return 1; }], timeout: 5000 });
`,
    });
    const result = await runCli(["--jsonl"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'Eval "stuck-data": the data source never settled: its promise (or its iterator\'s next()) was still pending after 2 rows',
    );
    expect(summaryOf(result.stdout, "threaded").scores.ok?.score).toBe(1);
    const byEval = storedEventsOf(dir);
    const stuckRow = byEval("stuck-row");
    expect(stuckRow.map((e) => e.input).sort()).toEqual([1, 2, 3]);
    expect(stuckRow.find((e) => e.input === 2)?.error?.message).toContain("The row never finished");
    expect(byEval("stuck-scorer")[0]?.error?.message).toContain("The row never finished");
    expect(byEval("stuck-data").map((e) => e.input)).toEqual([1, 2]);
    expect(summaryOf(result.stdout, "stuck-data").metrics.rows?.metric).toBe(2);
  });

  it("records rows and data that can never settle in worker threads too, whose threads keep the process alive", async () => {
    // beforeExit never comes while threads run: the pool itself tells that nothing anywhere can settle these.
    const dir = project({
      "stuck.eval.ts": `${HEADER}
${STUCK_ROW}${STUCK_DATA}`,
      // Waits that do end, on a timer, a child process and a timer in the data, longer than the pool's judgement.
      "slow.eval.ts": `${HEADER}import { execFile } from "node:child_process";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
Eval("slow-but-fine", {
  data: async function* () { for (let i = 0; i < 3; i++) { await sleep(600); yield { input: i }; } },
  task: async (x: number) => {
    if (x === 0) await sleep(1200);
    if (x === 1) await new Promise((r) => execFile(process.execPath, ["-e", "setTimeout(() => {}, 1000)"], r));
    return x;
  },
  scores: [function ok() { return 1; }],
});
`,
    });
    const started = Date.now();
    const result = await runCli(["--jsonl", "--workers", "2"], { cwd: dir });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'Eval "stuck-data": the data source never settled: its promise (or its iterator\'s next()) was still pending after 2 rows',
    );
    const byEval = storedEventsOf(dir);
    const stuckRow = byEval("stuck-row");
    expect(stuckRow.map((e) => e.input).sort()).toEqual([1, 2, 3]);
    expect(stuckRow.filter((e) => e.error).map((e) => [e.input, e.error?.message.slice(0, 23)])).toEqual([
      [2, "The row never finished:"],
    ]);
    expect(
      byEval("stuck-data")
        .map((e) => e.input)
        .sort(),
    ).toEqual([1, 2]);
    expect(byEval("slow-but-fine").map((e) => e.error)).toEqual([undefined, undefined, undefined]);
    expect(summaryOf(result.stdout, "slow-but-fine").scores.ok?.score).toBe(1);
  });

  it("lists an error that every row repeats once, with how many more rows had it", async () => {
    const dir = project({
      "same.eval.ts": `${HEADER}
Eval("same", {
  data: Array.from({ length: 9 }, (_, i) => ({ input: i })),
  task: (x: number) => x,
  scores: [
    function judge({ output }: any) { if (output === 4) throw new Error("odd one out"); throw new Error("no API key set"); },
    function ok() { return 1; },
  ],
});
`,
    });
    const result = await runCli(["--no-store"], { cwd: dir });
    expect(result.code).toBe(1);
    const lines = result.stdout.split("\n").filter((line) => line.includes("no API key set"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /row 0 score\s+Scorer "judge" threw Error: no API key set \(at [^)]+\) \(and 7 more with this error\)/,
    );
    expect(result.stdout).toMatch(/row 4 score\s+Scorer "judge" threw Error: odd one out/);
    expect(result.stdout).not.toContain("more errored rows");
    expect(result.stdout).toMatch(/ok\s+100\.0%/);
  });

  it("reports malformed rows by index and field, and runs the good ones", async () => {
    const dir = project({
      "rows.eval.ts": `${HEADER}
Eval("rows", {
  data: [{ input: 1 }, "just a string", { expected: 2 }, null, { input: 3, metadata: "x" }, { input: 4 }] as any,
  task: (x: number) => x,
  scores: [() => 1],
});
`,
    });
    const result = await runCli([], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('Row 1 is a string ("just a string"), not an object');
    expect(result.stdout).toContain('Row 2 has no `input` field (its fields: "expected")');
    expect(result.stdout).toContain("Row 3 is null, not an object");
    expect(result.stdout).toContain("Row 4 has `metadata` that is a string");
    expect(result.stdout).toMatch(/rows\s+6 · 4 errors \(4 bad row\)/);
    expect(result.stdout).toMatch(/scorer_0\s+100\.0%\s+2 scored/);
  });

  it("reports data of the wrong shape and a data source that throws, naming the eval", async () => {
    const dir = project({
      "data.eval.ts": `${HEADER}
Eval("number-data", { data: 42 as any, task: (x: number) => x, scores: [() => 1] });
Eval("string-data", { data: (() => "rows") as any, task: (x: number) => x, scores: [() => 1] });
Eval("throwing-data", { data: () => { throw new Error("dataset file missing"); }, task: (x: number) => x, scores: [() => 1] });
Eval("failing-stream", {
  data: async function* () { yield { input: 1 }; yield { input: 2 }; throw new Error("connection reset"); },
  task: (x: number) => x,
  scores: [() => 1],
});
Eval("one-then-fail", {
  data: function* () { yield { input: 1 }; throw new Error("cursor lost"); },
  task: (x: number) => x,
  scores: [() => 1],
});
`,
    });
    const result = await runCli([], { cwd: dir });
    expect(result.code).toBe(1);
    const out = result.stdout;
    expect(out).toContain('Eval "number-data": `data` gave the number 42, which is not a list of rows.');
    expect(out).toContain('Eval "string-data": `data` gave a string ("rows")');
    expect(out).toContain(
      'Eval "throwing-data": `data` threw before any row was read: Error: dataset file missing',
    );
    expect(out).toContain(
      'Eval "failing-stream": the data source threw after 2 rows: Error: connection reset',
    );
    expect(out).toContain('Eval "one-then-fail": the data source threw after 1 row: Error: cursor lost');
    // The rows read before the failure still ran.
    expect(out).toMatch(/failing-stream[\s\S]*?rows\s+2 · 0 errors/);
    expectNoStack(result.output);
    // The history says these runs failed, and why, not that someone interrupted them.
    const list = await runCli(["experiments"], { cwd: dir });
    expect(list.stdout).toMatch(/throwing-data\s.*\sfailed/);
    expect(list.stdout).toMatch(/failing-stream\s.*\s2\s+0\s+failed/);
    const stored = JSON.parse(
      (await runCli(["experiments", "failing-stream", "--json"], { cwd: dir })).stdout,
    ) as {
      name: string;
      status: string;
      failure: string;
    }[];
    expect(stored[0]?.status).toBe("interrupted");
    const show = await runCli(["show", "--eval", "failing-stream", stored[0]?.name ?? ""], { cwd: dir });
    expect(show.code).toBe(0);
    expect(show.stdout).toContain("(failed)");
    expect(show.stdout).toMatch(
      /failed\s+\[BAD_DATA\] Eval "failing-stream": the data source threw after 2 rows: Error: connection reset/,
    );
    // An export (a CI artifact) keeps why, and an import restores it.
    const exported = await runCli(["export", "--eval", "failing-stream", stored[0]?.name ?? ""], {
      cwd: dir,
    });
    writeFileSync(path.join(dir, "failed.jsonl"), exported.stdout);
    expect((await runCli(["import", "failed.jsonl", "--store", "other.db"], { cwd: dir })).code).toBe(0);
    const imported = await runCli(["experiments", "--store", "other.db"], { cwd: dir });
    expect(imported.stdout).toMatch(/failing-stream\s.*\sfailed \(imported\)/);
  });
});

describe("data sources that fail in the ways a hand-written iterator can", () => {
  it("reports an iterator method that throws, or a next() that returns no result object, as the data's error", async () => {
    const dir = project({
      "sources.eval.ts": `${HEADER}
class Dataset { [Symbol.iterator]() { throw new Error("cursor could not open"); } }
const ends = (last: unknown) => ({ [Symbol.iterator]() { let i = 0; return { next: () => (i < 2 ? { value: { input: i++ }, done: false } : last) }; } });
Eval("class", { data: new Dataset() as never, task: (x: number) => x, scores: [() => 1] });
Eval("undefined-end", { data: ends(undefined) as never, task: (x: number) => x, scores: [() => 1] });
Eval("false-end", { data: ends(false) as never, task: (x: number) => x, scores: [() => 1] });
Eval("promises", { data: [1, 2, 3].map(async (i) => { if (i === 2) throw new Error("no row 2"); return { input: i }; }) as never, task: (x: number) => x, scores: [() => 1] });
Eval("fine", { data: [{ input: 1 }], task: (x: number) => x, scores: [() => 1] });
`,
    });
    const result = await runCli(["--no-progress"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      '[BAD_DATA] Eval "class": `data` threw before any row was read: Error: cursor could not open',
    );
    // Ended with undefined (a crash) or false (a bad row each call, forever): the rows before are kept.
    for (const [name, what] of [
      ["undefined-end", "undefined"],
      ["false-end", "the boolean false"],
    ]) {
      expect(result.stdout).toContain(
        `[BAD_DATA] Eval "${name}": the data's iterator returned ${what} from next() after 2 rows, where an iterator returns { value, done }.`,
      );
    }
    // Rows that are promises are awaited, as Braintrust awaits them; one that rejects is that row's error.
    expect(result.stdout).toMatch(/✘ promises[^✘✔]*rows\s+3 · 1 error/);
    expect(result.stdout).toContain("Row 1 is a promise that rejected: Error: no row 2");
    expect(result.stdout).toMatch(/✔ fine/);
    expectNoStack(result.stderr);
    const stored = experiments(storeOf(dir));
    expect(stored.find((e) => e.project === "false-end")?.status).toBe("interrupted");
    expect(storedRows(storeOf(dir)).filter((r) => r.row_key.startsWith("h:")).length).toBe(7);
    // --list counts the same data: the failing sources are named, the others counted.
    const list = await runCli(["--list"], { cwd: dir });
    expect(list.stdout).toContain(
      'data error: Eval "false-end": the data\'s iterator returned the boolean false',
    );
    expect(list.stdout).toMatch(/fine\s+sources\.eval\.ts\s+1 row/);
    expectNoStack(list.stderr);
  });
});

describe("an Eval() the file does not make while it loads", () => {
  it("refuses one called later (a timer, an async function nobody awaited), and names an Eval() without a name", async () => {
    const dir = project({
      "late.eval.ts": `${HEADER}
Eval("early", { data: [{ input: 1 }], task: (x: number) => x, scores: [() => 1] });
setTimeout(() => Eval("late", { data: [{ input: 1 }], task: (x: number) => x, scores: [() => 1] }), 50);
await new Promise((r) => setTimeout(r, 10));
`,
      "slow.eval.ts": `${HEADER}
Eval("slow", { data: [{ input: 1 }], task: async (x: number) => { await new Promise((r) => setTimeout(r, 300)); return x; }, scores: [() => 1] });
`,
      "unnamed.eval.ts": `${HEADER}\nEval(process.env.UNSET_NAME as string, { data: [{ input: 1 }], task: (x: number) => x, scores: [] });\n`,
    });
    const result = await runCli(["--no-progress"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /\[UNHANDLED\] An error escaped the eval code at late\.eval\.ts:4:\d+: EvalrunError: Eval\("late"\) was called after its file had loaded/,
    );
    expect(result.stderr).toContain(
      "hint: Call Eval() at the top level of the file, or await what it waits on there",
    );
    expect(result.stderr).toMatch(
      /unnamed\.eval\.ts:3:1 \[BAD_EVALUATOR\] An Eval\(\) in \S+ has undefined as its name\./,
    );
    expect(
      experiments(storeOf(dir))
        .map((e) => e.project)
        .sort(),
    ).toEqual(["early", "slow"]);
    expectNoStack(result.stderr);
  });
});

describe("problems with eval files fail the run after the other files ran", () => {
  it("prints a compile error with file:line:col and a code frame, and still runs the good file", async () => {
    const dir = project({
      "good.eval.ts": GOOD,
      "broken.eval.ts": `${HEADER}\nconst x = 1 2;\nEval("broken", { data: [], task: () => x, scores: [] });\n`,
    });
    const result = await runCli([], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'broken.eval.ts:3:13 [COMPILE] Compile error: Expected ";" but found "2"',
    );
    expect(result.stderr).toContain("3 | const x = 1 2;");
    expect(result.stderr).toMatch(/\n {6}\| {13}\^\n/);
    expect(result.stdout).toMatch(/✔ good/);
    expect(result.stdout).toContain("1 eval file problem(s)");
    expectNoStack(result.output);
  });

  it("says what to do for an alias tsconfig does not define and for a file type with no loader", async () => {
    const dir = project({
      "alias.eval.ts": `${HEADER}import { slug } from "@/lib/slug";\nEval("alias", { data: [], task: () => slug, scores: [] });\n`,
      "prompt.md": "Be brief.\n",
      "md.eval.ts": `${HEADER}import prompt from "./prompt.md";\nEval("md", { data: [], task: () => prompt, scores: [] });\n`,
    });
    const result = await runCli(["--no-store"], { cwd: dir });
    expect(result.stderr).toContain('hint: "@/lib/slug" looks like a tsconfig paths alias');
    expect(result.stderr).toContain(
      'read a .md file at run time instead, readFileSync(new URL("./file.md", import.meta.url), "utf8")',
    );
  });

  it("reports a file that throws on import with its location, and a stack only with --verbose", async () => {
    const dir = project({
      "good.eval.ts": GOOD,
      "throws.eval.ts": `${HEADER}\nconst config = JSON.parse(process.env.MISSING_JSON ?? "");\nEval("never", { data: [], task: () => config, scores: [] });\n`,
    });
    const result = await runCli([], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /throws\.eval\.ts:3:\d+ \[LOAD\] Failed to load: SyntaxError: Unexpected end of JSON input/,
    );
    expect(result.stderr).toContain("hint:");
    expect(result.stdout).toMatch(/✔ good/);
    expectNoStack(result.output);
    const verbose = await runCli(["--verbose"], { cwd: dir });
    expect(verbose.stderr).toMatch(/at .*throws\.eval\.ts:3:\d+/);
  });

  it("reports a CommonJS package that throws at import once, as the file's load problem", async () => {
    const dir = project({
      "node_modules/boomcjs/package.json": JSON.stringify({ name: "boomcjs", main: "index.js" }),
      "node_modules/boomcjs/index.js": 'throw new Error("cjs boom");\n',
      "boom.eval.ts": `${HEADER}import "boomcjs";\nEval("boom", { data: [{ input: 1 }], task: (x: number) => x, scores: [] });\n`,
      "good.eval.ts": GOOD,
    });
    const result = await runCli(["--no-store"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("[LOAD] Failed to load: Error: cjs boom");
    expect(result.stderr).not.toContain("[UNHANDLED]");
    expect(result.stdout).toMatch(/✔ good/);
  });

  it("points a throw in a module the eval imports at that module's line, naming the eval file it was loading", async () => {
    const dir = project({
      "src/config.ts": `export const model = "m";\n\nexport const limits = JSON.parse(process.env.LIMITS ?? "{");\n`,
      "evals/app.eval.ts": `${HEADER}import { limits } from "../src/config";\nEval("app", { data: [{ input: 1 }], task: () => limits, scores: [] });\n`,
    });
    const result = await runCli(["--no-store"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /src\/config\.ts:3:\d+ \[LOAD\] Failed to load: SyntaxError: .* \(while loading evals\/app\.eval\.ts, which imports it\)/,
    );
    expectNoStack(result.stderr);
  });

  it("rejects an evaluator whose scores are not functions, naming the eval, file and index", async () => {
    const dir = project({
      "good.eval.ts": GOOD,
      "shape.eval.ts": `${HEADER}
Eval("not-array", { data: [{ input: 1 }], task: (x: number) => x, scores: (() => 1) as any });
Eval("not-function", { data: [{ input: 1 }], task: (x: number) => x, scores: [() => 1, "Levenshtein" as any] });
Eval("no-task", { data: [{ input: 1 }], scores: [] } as any);
Eval("bad-trials", { data: [{ input: 1 }], task: (x: number) => x, scores: [], trialCount: 0 });
Eval("scorers", { data: [{ input: 1 }], task: (x: number) => x, scorers: [() => 1] } as any);
Eval("dataset", { dataset: [{ input: 1 }], task: (x: number) => x, scores: [] } as any);
`,
    });
    const result = await runCli([], { cwd: dir });
    expect(result.code).toBe(1);
    const err = result.stderr;
    expect(err).toContain('Eval "not-array" in');
    expect(err).toContain("`scores` must be an array of scorer functions; got a function");
    expect(err).toContain('Eval "not-function"');
    expect(err).toContain('`scores[1]` is a string ("Levenshtein"), not a scorer function.');
    expect(err).toContain('Eval "no-task"');
    expect(err).toContain("`task` must be a function");
    expect(err).toContain("`trialCount` must be a positive integer; got the number 0");
    expect(err).toContain(
      "`scores` must be an array of scorer functions; got undefined. It has `scorers`: did you mean `scores`?",
    );
    expect(err).toContain("`data` is missing. It has `dataset`: did you mean `data`?");
    expect(result.stdout).toMatch(/✔ good/);
    expectNoStack(result.output);
  });

  it("refuses two evals with one name, naming both files", async () => {
    const dir = project({
      "one.eval.ts": GOOD,
      "two.eval.ts": GOOD,
    });
    const result = await runCli([], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Two evals are named "good": in one\.eval\.ts and in two\.eval\.ts/);
    expect(result.stdout).toMatch(/✔ good/);
    expect(result.stderr).not.toContain("experimentName");
    expect(result.stderr).not.toContain("compiled");
  });

  it("says when a second eval file's init() replaces the LLM settings another file gave", async () => {
    const file = (name: string, model: string) =>
      `import { Eval, init } from "evalrun";\ninit({ model: "${model}" });\nEval("${name}", { data: [{ input: 1 }], task: (x: number) => x, scores: [() => 1] });\n`;
    const dir = project({ "a.eval.ts": file("a", "model-a"), "b.eval.ts": file("b", "model-b") });
    const result = await runCli(["--no-store"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      "evalrun: init() in b.eval.ts replaces the LLM settings a.eval.ts gave init(): they are one per process",
    );
    const same = project({ "a.eval.ts": file("a", "m"), "b.eval.ts": file("b", "m") });
    expect((await runCli(["--no-store"], { cwd: same })).stderr).not.toContain("init()");
  });

  it("says how to leave out a compiled copy of an eval file (tsc's outDir) found beside its source", async () => {
    const dir = project({
      "evals/good.eval.ts": GOOD,
      "lib/evals/good.eval.js": GOOD.replace("(x: number)", "(x)").replace("}: any)", "})"),
    });
    const result = await runCli(["--no-store"], { cwd: dir });
    expect(result.stderr).toContain(
      'hint: One looks like the other compiled (tsc\'s outDir): leave the compiled files out, with exclude: ["lib/**"]',
    );
  });

  it("runs evals of one name told apart by experimentName as Braintrust keys them, in threads too", async () => {
    const dir = project({
      "models.eval.ts": `${HEADER}
for (const model of ["small", "large", "xl"]) {
  Eval("my-app", { experimentName: model, data: [{ input: 1 }], task: (x: number) => (model === "xl" ? 0 : x), scores: [function same({ output }: any) { return output === 1; }] });
}
Eval("my-app", { experimentName: "small", data: [{ input: 1 }], task: (x: number) => x, scores: [() => 1] });
`,
    });
    for (const workers of ["0", "2"]) {
      const result = await runCli(["--no-store", "--workers", workers, "--jsonl"], { cwd: dir });
      expect(result.code).toBe(1);
      const ran = jsonLines(result.stdout).map((s) => [
        s.project_name,
        (s.scores as Record<string, { score: number }>).same?.score,
      ]);
      expect(ran.sort()).toEqual([
        ["my-app [experimentName=large]", 1],
        ["my-app [experimentName=small]", 1],
        ["my-app [experimentName=xl]", 0],
      ]);
      // The same project and experiment name twice is still one name for two evals.
      expect(result.stderr).toContain('Two evals are named "my-app [experimentName=small]": twice in');
    }
    // Notes name each eval by its final name, the first one renamed when its twin loaded too.
    const typo = project({
      "ab.eval.ts": `${HEADER}for (const m of ["a", "b"]) Eval("ab", { experimentName: m, data: [{ input: 1 }], task: (x: number) => x, scores: [() => 1], trials: 2 } as any);\n`,
    });
    const noted = await runCli(["--no-store"], { cwd: typo });
    for (const m of ["a", "b"])
      expect(noted.stdout).toContain(
        `Eval "ab [experimentName=${m}]": \`trials\` is not an option of Eval()`,
      );
  });

  it("says when a file registers no evals", async () => {
    const dir = project({ "empty.eval.ts": `export const nothing = 1;\n` });
    const result = await runCli([], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("This file registers no evals.");
    expect(result.stderr).toContain("write `await main()`, not `main()`");
  });

  it("reports a file whose top-level await can never settle, and runs the others (not exit 13 and no word)", async () => {
    const dir = project({
      "a-stuck.eval.ts": `${HEADER}await new Promise(() => {});\nEval("never", { data: [{ input: 1 }], task: (x: number) => x, scores: [() => 1] });\n`,
      "b-good.eval.ts": GOOD,
    });
    const result = await runCli(["--no-store"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("✔ good");
    expect(result.stderr).toContain(
      "a-stuck.eval.ts [LOAD] Failed to load: its top-level code awaits a promise that can never settle",
    );
    expectNoStack(result.stderr);
  });
});

describe("a scorer given a bad option at load", () => {
  it("is the file's problem with its code and the eval file's line", async () => {
    const dir = project({
      "opts.eval.ts": `import { Eval, JSONDiff } from "evalrun";

const scorer = JSONDiff.partial({ stringScorr: 1 } as any);
Eval("opts", { data: [{ input: 1 }], task: (x: number) => x, scores: [scorer] });
`,
    });
    const result = await runCli(["--no-store"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /opts\.eval\.ts:3:\d+ \[BAD_SCORER_OPTIONS\] Failed to load: JSONDiff\.partial\(\) was given an unknown option "stringScorr"/,
    );
  });
});

describe("an import of a name a module does not export", () => {
  it("names the module, the name, the likely one meant and the import's line, and runs the other files", async () => {
    const dir = project({
      "typo.eval.ts": `import {
  Eval,
  Levenstein,
} from "evalrun";
Eval("typo", { data: [{ input: "a", expected: "a" }], task: (s: string) => s, scores: [Levenstein] });
`,
      "good.eval.ts": GOOD,
    });
    const result = await runCli(["--no-store"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'typo.eval.ts:3:3 [LOAD] Failed to load: "evalrun" has no export named "Levenstein" (did you mean "Levenshtein"?).',
    );
    expect(result.stderr).toMatch(/hint: evalrun exports: .*\bLevenshtein\b/);
    expectNoStack(result.stderr);
    expect(result.stdout).toContain("✔ good");
  });

  it("says how to import a name a CommonJS package sets at run time (as lodash does)", async () => {
    const dir = project({
      "node_modules/runtime-cjs/package.json": JSON.stringify({ name: "runtime-cjs", main: "index.js" }),
      "node_modules/runtime-cjs/index.js":
        "const api = {};\nfor (const n of ['camelCase']) api[n] = (s) => s.replace(/ (\\w)/g, (_, c) => c.toUpperCase());\nmodule.exports = api;\n",
      "cjs.eval.ts": `import { Eval } from "evalrun";
import { camelCase } from "runtime-cjs";
Eval("cjs", { data: [{ input: "a b" }], task: (s: string) => camelCase(s), scores: [() => 1] });
`,
    });
    const result = await runCli(["--no-store"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'cjs.eval.ts:2:10 [LOAD] Failed to load: "runtime-cjs/index.js" is a CommonJS module whose "camelCase" Node cannot see from an ES module',
    );
    expect(result.stderr).toContain(
      'hint: Import its default export and take the name from it: import runtimeCjs from "runtime-cjs"; const { camelCase } = runtimeCjs;',
    );
  });
});

describe("a file ported from Braintrust and autoevals by changing its import", () => {
  it("runs autoevals' custom-judge names, and says where the names evalrun lacks come from", async () => {
    const dir = project({
      "judges.eval.ts": `import { Eval, LLMClassifierFromSpec, LLMClassifierFromTemplate } from "evalrun";
const Same = LLMClassifierFromTemplate({ name: "Same", promptTemplate: "{{output}} vs {{expected}}", choiceScores: { Y: 1, N: 0 } });
const Spec = LLMClassifierFromSpec("Spec", { prompt: "{{output}}?", choice_scores: { A: 1, B: 0 }, use_cot: false });
if (Same.name !== "Same" || Spec.name !== "Spec" || typeof Spec.partial !== "function") throw new Error("not judges");
Eval("judges", { data: [{ input: 1 }], task: () => 1, scores: [() => 1] });
`,
      "rag.eval.ts": `import { Eval, Faithfulness } from "evalrun";
Eval("rag", { data: [{ input: 1 }], task: () => 1, scores: [Faithfulness] });
`,
      "traced.eval.ts": `import { Eval, wrapGoogleGenAI } from "evalrun";
const client = wrapGoogleGenAI({});
Eval("traced", { data: [{ input: 1 }], task: () => (client ? 1 : 0), scores: [() => 1] });
`,
    });
    const result = await runCli(["--no-store"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("✔ judges");
    expect(result.stderr).toContain(
      'rag.eval.ts:1:16 [LOAD] Failed to load: "evalrun" has no export named "Faithfulness".',
    );
    expect(result.stderr).toContain(
      'hint: "Faithfulness" is an autoevals scorer evalrun does not have: import it from "autoevals"',
    );
    expect(result.stderr).toContain(
      `hint: "wrapGoogleGenAI" is Braintrust's tracing, which evalrun does not record`,
    );
    expectNoStack(result.stderr);
  });

  it("runs Braintrust's tracing calls, span metadata, Reporter, errorScoreHandler and scorer ids as Braintrust would", async () => {
    const dir = project({
      "ported.eval.ts": `import { Eval, ExactMatch, Reporter, currentSpan, defaultErrorScoreHandler, initLogger, traced, wrapOpenAI, wrapTraced } from "evalrun";
const logger = initLogger({ projectName: "app" });
const client = wrapOpenAI({ answer: (q: string) => q.toUpperCase() });
const answer = wrapTraced(async function answer(q: string) {
  currentSpan().log({ metadata: { ignored: true } });
  return traced((span) => { span.log({ input: q }); return client.answer(q); }, { name: "inner" });
});
Eval("ported", {
  data: [{ id: "r1", input: "a", expected: "A" }, { id: "r2", input: "boom", expected: "BOOM" }, { id: "r3", input: "c", expected: "C" }],
  task: async (input: string, hooks) => {
    hooks.span.log({ metadata: { model: "m1" } });
    if (input === "boom") throw new Error("model refused");
    hooks.metadata = { ...hooks.metadata, replaced: true };
    return answer(input);
  },
  scores: [ExactMatch, function SeesId({ id }: { id?: string }) { return id?.startsWith("r") ? 1 : 0; }],
  errorScoreHandler: defaultErrorScoreHandler,
}, Reporter("mine", { reportEval: () => true, reportRun: () => true }));
void logger.flush();
`,
    });
    const result = await runCli([], { cwd: dir });
    expect(result.code).toBe(1);
    // The errored row counts as 0 for both scorers, as Braintrust's defaultErrorScoreHandler makes it: 2 of 3.
    expect(result.stdout).toMatch(/ExactMatch\s+66\.7%\s+3 scored/);
    expect(result.stdout).toMatch(/SeesId\s+66\.7%\s+3 scored/);
    const events = storedEventsOf(dir)("ported") as unknown as Array<{
      input: string;
      metadata?: Record<string, unknown>;
      error?: unknown;
    }>;
    const byInput = new Map(events.map((e) => [e.input, e]));
    expect(byInput.get("a")?.metadata).toEqual({ model: "m1", replaced: true });
    expect(byInput.get("boom")?.metadata).toEqual({ model: "m1" });
    expect(byInput.get("boom")?.error).toBeDefined();
    // Its reporter is not run: a reportRun that gates CI there gates nothing here, and the run says so.
    expect(result.stdout).toContain(
      `Eval "ported": its reporter "mine" (Eval()'s third argument, Braintrust's) is not run, so it passes or fails nothing`,
    );
    expectNoStack(result.stderr);
  });

  it("says when an errorScoreHandler throws, returns what is not a score, or is not a function", async () => {
    const dir = project({
      "handlers.eval.ts": `${HEADER}
const failing = { data: [{ input: 1 }], task: () => { throw new Error("task fails"); }, scores: [function Good() { return 1; }] };
Eval("throws", { ...failing, errorScoreHandler: () => { throw new Error("handler boom"); } });
Eval("bad-values", { ...failing, errorScoreHandler: () => ({ Good: 2 }) });
`,
      "not-fn.eval.ts": `${HEADER}Eval("not-fn", { data: [{ input: 1 }], task: (x: number) => x, scores: [], errorScoreHandler: "zero" } as any);\n`,
    });
    const result = await runCli(["--store", "s.db", "--no-progress"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("`errorScoreHandler` must be a function");
    const errors = storedRows(path.join(dir, "s.db")).map(
      (r) =>
        (JSON.parse(r.event) as { score_errors?: Record<string, string> }).score_errors?.errorScoreHandler,
    );
    expect(errors.sort()).toEqual([
      "errorScoreHandler returned Good = the number 2: a score is a number in [0, 1] or null",
      expect.stringMatching(/^errorScoreHandler threw Error: handler boom \(at handlers\.eval\.ts:4:\d+\)$/),
    ]);
    // The run lists them with the rows' task errors, where the user looks; the handler is not a score.
    expect(result.stdout).toMatch(
      /✘ throws[^✘✔]*errorScoreHandler threw Error: handler boom \(at handlers\.eval\.ts:4:/,
    );
    expect(result.stdout).toMatch(/✘ bad-values[^✘✔]*errorScoreHandler returned Good = the number 2/);
    expect(result.stdout).not.toMatch(/^\s+errorScoreHandler\s+–/m);
  });

  it("names evaluator keys it ignores: a typo with the option meant, Braintrust's only when results differ", async () => {
    const dir = project({
      "keys.eval.ts": `${HEADER}Eval("keys", {
  data: [{ input: 1 }], task: (x: number) => x, scores: [function one() { return 1; }],
  trials: 3, maxConcurency: 2, projectId: "p", isPublic: true, update: true, classifiers: [],
} as any);
`,
    });
    const result = await runCli(["--no-store"], { cwd: dir });
    expect(result.code).toBe(0);
    // The typo ran the default, one trial: the notice is what tells the user.
    expect(result.stdout).toMatch(/rows\s+1 · 0 errors/);
    expect(result.stdout).toContain(
      'Eval "keys": `trials` is not an option of Eval(), so it is ignored. Did you mean `trialCount`?',
    );
    expect(result.stdout).toContain(
      "`maxConcurency` is not an option of Eval(), so it is ignored. Did you mean `maxConcurrency`?",
    );
    expect(result.stdout).toContain("`classifiers` is Braintrust's; its classifiers are not run");
    for (const quiet of ["projectId", "isPublic", "update"])
      expect(result.stdout).not.toContain(`\`${quiet}\``);

    // classifiers alone: not a missing `scores` array, but what evalrun does not run.
    const only = project({
      "cls.eval.ts": `${HEADER}Eval("cls", { data: [{ input: 1 }], task: (x: number) => x, classifiers: [() => ({ name: "c", id: "a" })] } as any);\n`,
    });
    const refused = await runCli(["--no-store"], { cwd: only });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("it has Braintrust's `classifiers` and no `scores`");
  });
});

describe("two scores under one name", () => {
  it("keeps the first and records the clash on the row, instead of hiding a score", async () => {
    const dir = project({
      "clash.eval.ts": `${HEADER}
const strict = function check({ output }: { output: number }) { return output > 1 ? 1 : 0; };
const lenient = function check() { return 1; };
function named({ output }: { output: number }) { return [{ name: "size", score: 1 }, { name: "size", score: output / 10 }]; }
Eval("clash", { data: [{ input: 1 }, { input: 2 }], task: (x: number) => x, scores: [strict, lenient, named] });
`,
    });
    const result = await runCli(["--store", "s.db"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/rows\s+2 · 2 errors \(2 scorer\)/);
    const rows = storedRows(path.join(dir, "s.db"))
      .map((r) => JSON.parse(r.event))
      .sort((a, b) => a.row_index - b.row_index);
    expect(rows.map((r) => r.scores)).toEqual([
      { check: 0, size: 1 },
      { check: 1, size: 1 },
    ]);
    expect(rows[0].score_errors.check).toBe(
      'Scorer "check" (scores[1]) returned a score named "check", as an earlier scorer did, and one would hide the other; give each scorer its own name (a named function, or { name, score } with its own name).',
    );
    expect(rows[0].score_errors.size).toContain('Scorer "named" (scores[2]) returned a score named "size"');
  });
});

describe("score names", () => {
  it("takes names Object.prototype has (toString, constructor) as any other, and refuses __proto__", async () => {
    const dir = project({
      "names.eval.ts": `${HEADER}
Eval("names", {
  data: [{ input: 1 }],
  task: (x: number) => x,
  scores: [
    () => [{ name: "toString", score: 1 }, { name: "constructor", score: 0.5 }, { name: "valueOf", score: 0 }],
    () => ({ name: "__proto__", score: 1 }),
  ],
});
`,
    });
    const result = await runCli(["--jsonl"], { cwd: dir });
    expect(result.code).toBe(1);
    const summary = summaryOf(result.stdout, "names");
    const means = Object.fromEntries(
      ["toString", "constructor", "valueOf"].map((n) => [n, summary.scores[n]?.score]),
    );
    expect(means).toEqual({ toString: 1, constructor: 0.5, valueOf: 0 });
    expect(summary.metrics.errors?.metric).toBe(1);
    const text = await runCli(["--no-progress", "--no-store"], { cwd: dir });
    expect(text.stdout).toContain(
      'returned a score named "__proto__", which an object cannot hold as a key of its own',
    );
  });
});

describe("values whose getters throw", () => {
  it("fail their row (or their file), never the run, in either mode", async () => {
    const dir = project({
      "rows.eval.ts": `import { Eval } from "evalrun";
async function* rows() {
  for (let i = 0; i < 6; i++)
    yield i === 2 ? { get input(): number { throw new Error("lazy field failed"); } }
      : i === 3 ? { input: i, metadata: { get bad() { throw new Error("meta boom"); } } }
      : { input: i };
}
Eval("rows", {
  data: rows,
  task: (i: number) => i,
  scores: [function G({ input }: { input: number }) {
    return input === 4 ? ({ get score() { throw new Error("score getter boom"); } } as unknown as number) : 1;
  }],
});
`,
      "options.eval.ts": `import { Eval } from "evalrun";
Eval("options", { get data(): any { throw new Error("data getter boom"); }, task: (i: any) => i, scores: [] });
`,
    });
    for (const workers of ["0", "2"]) {
      const result = await runCli(["--no-store", "--workers", workers], { cwd: dir, env: { NO_COLOR: "1" } });
      expect(result.code).toBe(1);
      expect(result.stderr + result.stdout).not.toContain("internal error");
      expect(result.stdout).toMatch(/rows\s+6 · 3 errors/);
      expect(result.stdout).toContain(
        "row 2 data  Row 2 could not be read: a getter or Proxy of the row threw Error: lazy field failed.",
      );
      expect(result.stdout).toContain(
        "row 3 data  Row 3 could not be read: reading its fields (metadata, tags, expected) threw Error: meta boom.",
      );
      expect(result.stdout).toContain(
        'row 4 score  Scorer "G" returned a value that could not be read: Error: score getter boom',
      );
      expect(result.stdout + result.stderr).toContain(
        'options.eval.ts:2:1 [BAD_EVALUATOR] Eval "options": reading its options threw Error: data getter boom.',
      );
    }
  });
});

describe("secrets in errors", () => {
  it("takes the values of secret-named variables out of recorded errors, in either mode", async () => {
    const KEY = "sk-fromDotenv1234567890abcdef";
    const TOKEN = "tok-fromEnvironment99887766";
    const dir = project({
      ".env": `OPENAI_API_KEY=${KEY}\nMODEL=gpt-4o-mini-long\n`,
      "paged.eval.ts": `import { Eval } from "evalrun";
Eval("paged", {
  data: async function* () { yield { input: 1 }; throw new Error("page 2 refused key " + process.env.OPENAI_API_KEY); },
  task: (i: number) => i,
  scores: [() => 1],
});
`,
      "top.eval.ts": `throw new Error("client init failed for " + process.env.OPENAI_API_KEY);\n`,
      "leak.eval.ts": `import { Eval } from "evalrun";
Eval("leak", {
  data: [{ input: "a" }, { input: "b" }, { input: "c" }],
  task: async (input: string) => {
    if (input === "b") throw new Error("401 for " + process.env.OPENAI_API_KEY + " (model " + process.env.MODEL + ")");
    return input;
  },
  scores: [function Exact({ output }: { output: string }) {
    if (output === "c") throw new Error("judge refused " + process.env.DB_AUTH_TOKEN);
    return 1;
  }],
});
`,
    });
    for (const workers of ["0", "2"]) {
      const store = `w${workers}.db`;
      const result = await runCli(
        [
          "--workers",
          workers,
          "--store",
          store,
          "--reporter",
          "default,junit",
          "--outfile",
          `junit=j${workers}.xml`,
        ],
        { cwd: dir, env: { NO_COLOR: "1", DB_AUTH_TOKEN: TOKEN } },
      );
      expect(result.code).toBe(1);
      expect(result.stdout).toContain("401 for [redacted] (model gpt-4o-mini-long)");
      expect(result.stdout).toContain("judge refused [redacted]");
      expect(result.stdout + result.stderr).toContain("page 2 refused key [redacted]");
      expect(result.stdout + result.stderr).toContain("client init failed for [redacted]");
      const id = experiments(path.join(dir, store)).find((e) => e.project === "leak")?.id as string;
      const exported = await runCli(["export", id, "--store", store], { cwd: dir });
      const everything = [
        result.stdout,
        result.stderr,
        exported.stdout,
        readFileSync(path.join(dir, `j${workers}.xml`), "utf8"),
        readFileSync(path.join(dir, store)).toString("latin1"),
      ].join("\n");
      expect(everything).toContain("[redacted]");
      expect(everything).not.toContain(KEY);
      expect(everything).not.toContain(TOKEN);
    }
  });
});

describe("secrets in any shape", () => {
  it("takes out keys given in code, trimmed by HTTP, JSON-escaped or thrown as objects, in either mode; and a config's load error", async () => {
    const GIVEN = "sk-givenInCode-0123456789abcdef";
    const SLASHED = "sk-slash/plus+0123456789";
    const dir = project({
      "given.eval.ts": `import { Eval, init } from "evalrun";
init({ apiKey: "${GIVEN} " });
Eval("given", {
  data: [{ input: "object" }, { input: "escaped" }, { input: "ok" }],
  task: async (input: string) => {
    if (input === "object") throw { status: 401, authorization: "Bearer ${GIVEN}" };
    if (input === "escaped") throw new Error(JSON.stringify({ got: process.env.OPENAI_API_KEY!.replace("/", "\\/").replace("+", "\\u002B") }));
    return input;
  },
  scores: [() => 1],
});
`,
    });
    for (const workers of ["0", "2"]) {
      const store = `w${workers}.db`;
      const result = await runCli(["--workers", workers, "--store", store], {
        cwd: dir,
        env: { NO_COLOR: "1", OPENAI_API_KEY: SLASHED },
      });
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('threw an object {"status":401,"authorization":"Bearer [redacted]"}');
      expect(result.stdout).toContain('Error: {"got":"[redacted]"}');
      const everything = [
        result.stdout,
        result.stderr,
        readFileSync(path.join(dir, store)).toString("latin1"),
      ].join("\n");
      expect(everything).not.toContain("givenInCode");
      expect(everything).not.toContain("0123456789");
    }
    writeFileSync(
      path.join(dir, "evalrun.config.mjs"),
      'throw new Error("bad key " + process.env.OPENAI_API_KEY);\n',
    );
    const config = await runCli(["--no-store"], { cwd: dir, env: { OPENAI_API_KEY: SLASHED } });
    expect(config.code).toBe(2);
    expect(config.stderr).toContain("threw while loading: bad key [redacted]");
    expect(config.stderr).not.toContain(SLASHED);
  });
});

describe("errors that escape the eval code", () => {
  it("reports a floating rejection and a throw in a timer, finishes the run, and exits 1", async () => {
    const dir = project({
      "stray.eval.ts": `${HEADER}
Eval("stray", {
  data: [{ input: 1 }, { input: 2 }, { input: 3 }],
  task: async (x: number) => {
    if (x === 1) void Promise.reject(new Error("nobody awaited me"));
    if (x === 2) setTimeout(() => { throw new Error("thrown in a timer"); }, 0);
    await new Promise((r) => setTimeout(r, 20));
    if (x === 3) for (let i = 0; i < 3; i++) void Promise.reject(new Error("one of many " + i));
    return x;
  },
  scores: [() => 1],
});
`,
    });
    const result = await runCli(
      ["--reporter", "default,json,junit", "--outfile", "json=r.json", "--outfile", "junit=j.xml"],
      { cwd: dir, env: { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: path.join(dir, "step.md") } },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /\[UNHANDLED\] An error escaped the eval code at stray\.eval\.ts:6:\d+: Error: nobody awaited me/,
    );
    expect(result.stderr).toContain("Error: thrown in a timer");
    expect(result.stdout).toMatch(/rows\s+3 · 0 errors/);
    // The first three are shown, the rest counted.
    expect(result.stderr.match(/\[UNHANDLED\]/g)).toHaveLength(3);
    expect(result.stderr).toContain("… more errors escaped the eval code: counted at the end, not shown.");
    expect(result.stdout).toMatch(
      /Failed: [^\n]*\n\s+· 5 error\(s\) escaped the eval code \(a throw in a timer, a promise nobody awaited: the log shows each\)/,
    );
    // The reports say the run failed, as its exit code does.
    const json = JSON.parse(readFileSync(path.join(dir, "r.json"), "utf8"));
    expect([json.passed, json.exit_code]).toEqual([false, 1]);
    expect(readFileSync(path.join(dir, "j.xml"), "utf8")).toMatch(
      /<testcase name="errors escaped the eval code" classname="evalrun.run"[^>]*>\s*<error type="unhandled" message="5 error\(s\) escaped/,
    );
  });

  it("reports a floating rejection even when every row finishes without the event loop turning", async () => {
    const dir = project({
      "eager.eval.ts": `${HEADER}
Eval("eager", {
  data: [{ input: 1 }, { input: 2 }],
  task: async (x: number) => {
    if (x === 2) void Promise.reject(new Error("left behind"));
    return x;
  },
  scores: [() => 1],
});
`,
    });
    const result = await runCli(["--workers", "0", "--no-store"], { cwd: dir });
    expect(result.stderr).toMatch(
      /\[UNHANDLED\] An error escaped the eval code at eager\.eval\.ts:6:\d+: Error: left behind/,
    );
    expect(result.stdout).toContain(
      "1 error(s) escaped the eval code (a throw in a timer, a promise nobody awaited: the log shows each)",
    );
    expect(result.code).toBe(1);
  });
});

describe("process.exit() in eval code run in the main thread", () => {
  const files = {
    "quits.eval.ts": `${HEADER}
Eval("quits", {
  data: [{ input: 1 }, { input: 2 }, { input: 3 }, { input: 4 }],
  task: async (x: number) => {
    if (x === 2) process.exit(3);
    return x;
  },
  scores: [function picky({ output }: { output: number }) { if (output === 4) process.exit(0); return 1; }],
});
`,
    "top.eval.ts": `${HEADER}
process.exit(4);
Eval("never", { data: [{ input: 1 }], task: (x: number) => x, scores: [] });
`,
    "data.eval.ts": `${HEADER}
Eval("data-quits", {
  data: async function* () { yield { input: 1 }; process.exit(5); },
  task: (x: number) => x,
  scores: [function one() { return 1; }],
});
`,
  };

  for (const workers of ["0", "auto"]) {
    it(`ends its row, or its file's load, not the run (--workers ${workers})`, async () => {
      const dir = project(files);
      const result = await runCli(["--workers", workers, "--store", "s.db"], { cwd: dir });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        "top.eval.ts:3:9 [LOAD] Failed to load: its top-level code called process.exit(4).",
      );
      expect(result.stdout).toMatch(/rows\s+4 · 2 errors \(1 task, 1 scorer\)/);
      expectNoStack(result.stdout);
      const experiment = experiments(path.join(dir, "s.db")).find((e) => e.project === "quits");
      expect(experiment?.status).toBe("complete");
      const rows = storedRows(path.join(dir, "s.db"))
        .filter((r) => r.exp === experiment?.seq)
        .map((r) => JSON.parse(r.event))
        .sort((a, b) => a.row_index - b.row_index);
      expect(rows.map((r) => r.row_index)).toEqual([0, 1, 2, 3]);
      expect(rows[1].error.message).toBe(
        "ProcessExit: process.exit(3) was called; under evalrun it ends this row, not the run",
      );
      expect(rows[3].score_errors.picky).toContain(
        'Scorer "picky" threw ProcessExit: process.exit(0) was called; under evalrun it ends this row',
      );
      expect(rows[0].scores).toEqual({ picky: 1 });
      expect(result.stdout).toContain(
        'Eval "data-quits": the data source called process.exit(5) after 1 rows; under evalrun that ends this eval\'s data, not the run.',
      );
    });
  }
});
