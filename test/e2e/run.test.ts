import { readFileSync, realpathSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { jsonLines, project, runCli, summaryOf } from "../helpers/cli.js";
import { storedRows } from "../helpers/store.js";

describe("running eval files", () => {
  it("runs every row, scores it and prints a summary per eval", async () => {
    const dir = project({
      "evals/upper.eval.ts": `
        import { Eval } from "evalrun";
        function exact({ output, expected }: { output: string; expected?: string }) { return output === expected; }
        function lengthRatio({ output, expected }: { output: string; expected?: string }) {
          return Math.min(output.length, (expected ?? "").length) / Math.max(output.length, (expected ?? "").length);
        }
        Eval("upper", {
          data: [
            { input: "ab", expected: "AB" },
            { input: "cd", expected: "CD" },
            { input: "ef", expected: "EFG" },
            { input: "gh", expected: "XY" },
          ],
          task: (input: string) => input.toUpperCase(),
          scores: [exact, lengthRatio],
        });
      `,
    });
    const text = await runCli([], { cwd: dir });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("upper");
    expect(text.stdout).toContain("evals/upper.eval.ts");
    // exact: 2 of 4; lengthRatio: (1 + 1 + 2/3 + 1) / 4 = 0.9167
    expect(text.stdout).toMatch(/exact\s+50\.0%\s+4 scored/);
    expect(text.stdout).toMatch(/lengthRatio\s+91\.7%\s+4 scored/);
    expect(text.stdout).toMatch(/rows\s+4 · 0 errors/);
    expect(text.stdout).toMatch(/p50 .*p95/);

    const json = await runCli(["--jsonl"], { cwd: dir });
    expect(json.code).toBe(0);
    const summary = summaryOf(json.stdout, "upper");
    expect(summary.scores.exact?.score).toBe(0.5);
    expect(summary.scores.lengthRatio?.score).toBeCloseTo((3 + 2 / 3) / 4, 10);
    expect(summary.metrics.rows?.metric).toBe(4);
  });

  it("prints only the spec's summary shape with --jsonl, one line per eval", async () => {
    const dir = project({
      "a.eval.ts": `import { Eval } from "evalrun";
        Eval("first", { data: [{ input: 1, expected: 1 }], task: (x: number) => x, scores: [function same({ output, expected }) { return output === expected; }] });
        Eval("second", { data: [{ input: 2 }], task: (x: number) => x, scores: [() => null] });`,
    });
    const result = await runCli(["--jsonl"], { cwd: dir });
    expect(result.code).toBe(0);
    const lines = jsonLines(result.stdout);
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(Object.keys(line).sort()).toEqual(
        ["comparison_experiment_name", "experiment_name", "metrics", "project_name", "scores"].sort(),
      );
      const metrics = line.metrics as Record<string, { name: string; metric: number; unit: string }>;
      for (const key of ["rows", "errors", "duration"]) {
        expect(metrics[key]).toEqual({ name: key, metric: expect.any(Number), unit: expect.any(String) });
      }
      expect(metrics.duration?.unit).toBe("s");
    }
    const first = summaryOf(result.stdout, "first");
    expect(first.scores.same).toMatchObject({
      name: "same",
      score: 1,
      diff: null,
      improvements: 0,
      regressions: 0,
    });
    // Outside git, experiments are named by their UTC start time.
    expect(first.experiment_name).toMatch(/^\d{8}-\d{6}$/);
    // A scorer that returns null leaves the row unscored: no mean, nothing counted.
    const second = summaryOf(result.stdout, "second");
    expect(second.scores.scorer_0).toMatchObject({ score: null, scored: 0 });
  });

  it("accepts every data shape: array, function, promise, iterable, async iterable, async generator", async () => {
    const rows = `[{ input: 1, expected: 1 }, { input: 2, expected: 2 }]`;
    const shapes: Record<string, string> = {
      array: rows,
      fn: `() => ${rows}`,
      asyncFn: `async () => ${rows}`,
      promise: `Promise.resolve(${rows})`,
      set: `new Set(${rows})`,
      generator: `(function* () { yield* ${rows}; })()`,
      asyncGenerator: `(async function* () { yield* ${rows}; })()`,
      asyncGeneratorFn: `async function* () { yield* ${rows}; }`,
      fnReturningAsyncIterable: `() => (async function* () { yield* ${rows}; })()`,
    };
    const body = Object.entries(shapes)
      .map(
        ([name, data]) =>
          `Eval(${JSON.stringify(name)}, { data: ${data}, task: (x: number) => x, scores: [function same({ output, expected }: any) { return output === expected; }] });`,
      )
      .join("\n");
    const dir = project({ "shapes.eval.ts": `import { Eval } from "evalrun";\n${body}` });
    const result = await runCli(["--jsonl"], { cwd: dir });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    for (const name of Object.keys(shapes)) {
      const summary = summaryOf(result.stdout, name);
      expect(summary.metrics.rows?.metric, name).toBe(2);
      expect(summary.scores.same?.score, name).toBe(1);
    }
  });

  it("reads an async generator lazily: never more than maxConcurrency rows ahead of the work", async () => {
    const dir = project({
      "lazy.eval.ts": `
        import { Eval } from "evalrun";
        import { writeFileSync } from "node:fs";
        let pulled = 0, finished = 0, maxAhead = 0;
        async function* rows() {
          for (let i = 0; i < 20000; i++) {
            pulled++;
            maxAhead = Math.max(maxAhead, pulled - finished);
            yield { input: i, expected: i };
          }
        }
        process.on("exit", () => writeFileSync(process.env.STATS_FILE!, JSON.stringify({ pulled, finished, maxAhead })));
        Eval("lazy", {
          data: rows,
          task: async (x: number) => x,
          scores: [function same({ output, expected }: any) { finished++; return output === expected; }],
          maxConcurrency: 4,
        });
      `,
    });
    const statsFile = path.join(dir, "stats.json");
    const result = await runCli(["--jsonl"], { cwd: dir, env: { STATS_FILE: statsFile } });
    expect(result.code).toBe(0);
    expect(summaryOf(result.stdout, "lazy").metrics.rows?.metric).toBe(20000);
    const stats = JSON.parse(readFileSync(statsFile, "utf8")) as {
      pulled: number;
      finished: number;
      maxAhead: number;
    };
    expect(stats.pulled).toBe(20000);
    expect(stats.finished).toBe(20000);
    // 4 in flight plus the row being pulled: the generator is never drained ahead of the work.
    expect(stats.maxAhead).toBeLessThanOrEqual(5);
  });

  it("runs each row trialCount times, with trialIndex in the hooks, and --trials overrides it", async () => {
    const dir = project({
      "trials.eval.ts": `
        import { Eval } from "evalrun";
        Eval("trials", {
          data: [{ input: "a" }, { input: "b" }],
          task: (input: string, { trialIndex }) => trialIndex,
          // trial t scores t / 2: with 3 trials the mean is (0 + 0.5 + 1) / 3 = 0.5
          scores: [function trial({ output }: { output: number }) { return output / 2; }],
          trialCount: 3,
        });
      `,
    });
    const three = await runCli(["--jsonl"], { cwd: dir });
    expect(three.code).toBe(0);
    const s3 = summaryOf(three.stdout, "trials");
    expect(s3.metrics.rows?.metric).toBe(6);
    expect(s3.scores.trial?.score).toBeCloseTo(0.5, 10);
    const two = await runCli(["--jsonl", "--trials", "2"], { cwd: dir });
    const s2 = summaryOf(two.stdout, "trials");
    expect(s2.metrics.rows?.metric).toBe(4);
    expect(s2.scores.trial?.score).toBeCloseTo(0.25, 10);
    const text = await runCli([], { cwd: dir });
    expect(text.stdout).toContain("6 (2 rows × 3 trials)");
  });

  it("runs a row its own trialCount times (Braintrust's EvalCase), unless --trials says otherwise", async () => {
    const dir = project({
      "rows.eval.ts": `
        import { Eval } from "evalrun";
        Eval("row-trials", {
          data: [{ input: "a" }, { input: "flaky", trialCount: 3 }, { input: "bad", trialCount: 0 }],
          task: (input: string, { trialIndex }) => input + trialIndex,
          scores: [function one() { return 1; }],
        });
      `,
    });
    const own = await runCli(["--store", "s.db", "--no-progress"], { cwd: dir });
    expect(own.code).toBe(1);
    expect(own.stdout).toContain(
      "Row 2 has a `trialCount` that is the number 0; it must be a whole number of 1 or more.",
    );
    const outputs = (file: string) =>
      storedRows(path.join(dir, file))
        .map((r) => JSON.parse(r.event).output as string | undefined)
        .filter((o) => o !== undefined)
        .sort();
    expect(outputs("s.db")).toEqual(["a0", "flaky0", "flaky1", "flaky2"]);
    const forced = await runCli(["--store", "t.db", "--trials", "2", "--no-progress"], { cwd: dir });
    expect(forced.code).toBe(1);
    expect(outputs("t.db")).toEqual(["a0", "a1", "flaky0", "flaky1"]);
  });

  it("hands tasks and scorers hooks and args that log, spread and destructure as plain objects", async () => {
    const dir = project({
      "plain.eval.ts": `
        import { Eval } from "evalrun";
        Eval("plain", {
          data: [{ input: "a", expected: "A", metadata: { m: 1 }, tags: ["t"] }],
          task: (input: string, hooks) => {
            const { meta, trialIndex } = hooks;
            meta({ keys: Object.keys({ ...hooks }).sort().join(","), trialIndex });
            return JSON.stringify(hooks);
          },
          scores: [
            function shape(args) {
              return { name: "shape", score: 1, metadata: { json: JSON.stringify(args), spread: Object.keys({ ...args }).sort().join(",") } };
            },
          ],
          timeout: 10000,
        });
      `,
    });
    for (const workers of ["0", "2"]) {
      const result = await runCli(["--workers", workers, "--export", "out", "--no-progress"], { cwd: dir });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const [, row] = jsonLines(readFileSync(path.join(dir, "out", "plain.jsonl"), "utf8")) as Array<{
        output: string;
        metadata: Record<string, unknown>;
        score_metadata: { shape: { json: string; spread: string } };
      }>;
      expect(row?.metadata).toEqual({ m: 1, keys: "expected,metadata,tags,trialIndex", trialIndex: 0 });
      expect(JSON.parse(row?.output ?? "")).toEqual({
        metadata: row?.metadata,
        expected: "A",
        tags: ["t"],
        trialIndex: 0,
      });
      expect(JSON.parse(row?.score_metadata.shape.json ?? "")).toEqual({
        output: row?.output,
        input: "a",
        expected: "A",
        metadata: row?.metadata,
        tags: ["t"],
        trialIndex: 0,
      });
      expect(row?.score_metadata.shape.spread).toBe("expected,input,metadata,output,tags,trialIndex");
    }
  });

  it("gives Braintrust's parameters and reportProgress hooks, and a span whose logged metadata is the row's", async () => {
    const dir = project({
      "params.eval.ts": `
        import { Eval } from "evalrun";
        // A zod-like schema with a default, a { default } object, and a plain value.
        const model = { safeParse: (v: unknown) => ({ success: true, data: v ?? "small-model" }) };
        Eval("params", {
          data: [{ input: "a" }],
          parameters: {
            model,
            prompt: { type: "prompt", default: "Say {{input}}" },
            main: { type: "prompt", default: { messages: [{ role: "system", content: "Be brief." }, { role: "user", content: [{ type: "text", text: "Greet {{input}}" }] }], model: "gpt-4o", params: { temperature: 0 } } },
            retries: 2,
          },
          task: (input: string, hooks) => {
            hooks.reportProgress({ format: "code", event: "json_delta", data: "1" });
            const main = hooks.parameters.main as { build(vars: object): unknown };
            return JSON.stringify({ ...hooks.parameters, built: main.build({ input }) });
          },
          scores: [function ok() { return 1; }],
        });
        Eval("spans", {
          data: [{ input: "a" }],
          task: (input: string, hooks) => { hooks.span.log({ metadata: { a: 1 }, output: "ignored" }); return hooks.span.traced((child) => { child.log({ metadata: { b: 2 } }); return input; }); },
          scores: [function ok() { return 1; }],
        });
      `,
    });
    const result = await runCli(["--export", "out", "--no-progress"], { cwd: dir });
    expect(result.code).toBe(0);
    const [, spanRow] = jsonLines(readFileSync(path.join(dir, "out", "spans.jsonl"), "utf8")) as Array<{
      metadata: unknown;
      output: string;
    }>;
    // The row's own span: its metadata is the row's; a child span's is not recorded.
    expect(spanRow?.metadata).toEqual({ a: 1 });
    expect(spanRow?.output).toBe("a");
    const [, row] = jsonLines(readFileSync(path.join(dir, "out", "params.jsonl"), "utf8")) as Array<{
      output: string;
    }>;
    const messages = [
      { role: "system", content: "Be brief." },
      { role: "user", content: [{ type: "text", text: "Greet {{input}}" }] },
    ];
    expect(JSON.parse(row?.output ?? "")).toEqual({
      model: "small-model",
      prompt: "Say {{input}}",
      main: { model: "gpt-4o", temperature: 0, messages },
      retries: 2,
      // Braintrust's prompt parameter: build() renders its messages with the variables given.
      built: {
        model: "gpt-4o",
        temperature: 0,
        // Text parts are rendered too, and params are flat.
        messages: [messages[0], { role: "user", content: [{ type: "text", text: "Greet a" }] }],
      },
    });
  });

  it("fails an eval whose parameter has no value, naming it, as Braintrust does (its task saw undefined)", async () => {
    const dir = project({
      "schema.eval.ts": `
        import { Eval } from "evalrun";
        // A zod-like schema without a default: parsing nothing fails.
        const model = { safeParse: () => ({ success: false, error: { issues: [{ message: "Required" }] } }) };
        Eval("schema", { data: [{ input: "a" }], parameters: { model }, task: (x: string) => x, scores: [() => 1] });
      `,
      "model.eval.ts": `
        import { Eval } from "evalrun";
        Eval("model", { data: [{ input: "a" }], parameters: { judge: { type: "model" } }, task: (x: string) => x, scores: [() => 1] });
      `,
      "fine.eval.ts": `
        import { Eval } from "evalrun";
        Eval("fine", { data: [{ input: "a" }], parameters: { judge: { type: "model", default: "m" } }, task: (x: string, h) => String(h.parameters.judge), scores: [() => 1] });
      `,
    });
    const result = await runCli(["--no-progress"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'the parameter "model" has no valid value (Required): evalrun gives each parameter its schema\'s default',
    );
    expect(result.stderr).toContain(
      'the model parameter "judge" has no default, so its tasks would get none.',
    );
    expect(result.stdout).toContain("✔ fine");
  });

  it("keeps maxConcurrency per eval and --max-concurrency across evals", async () => {
    const evalFile = (name: string, cap: number) => `
      Eval(${JSON.stringify(name)}, {
        data: Array.from({ length: 40 }, (_, i) => ({ input: i })),
        task: async (x: number) => {
          const s = stats[${JSON.stringify(name)}]; s.now++; s.max = Math.max(s.max, s.now); total.now++; total.max = Math.max(total.max, total.now);
          await new Promise((r) => setTimeout(r, 5));
          s.now--; total.now--;
          return x;
        },
        scores: [() => 1],
        maxConcurrency: ${cap},
      });`;
    const dir = project({
      "caps.eval.ts": `
        import { Eval } from "evalrun";
        import { writeFileSync } from "node:fs";
        const stats: Record<string, { now: number; max: number }> = { a: { now: 0, max: 0 }, b: { now: 0, max: 0 } };
        const total = { now: 0, max: 0 };
        process.on("exit", () => writeFileSync(process.env.STATS_FILE!, JSON.stringify({ stats, total })));
        ${evalFile("a", 3)}
        ${evalFile("b", 6)}
      `,
    });
    const file = path.join(dir, "stats.json");
    const perEval = await runCli([], { cwd: dir, env: { STATS_FILE: file } });
    expect(perEval.code).toBe(0);
    const free = JSON.parse(readFileSync(file, "utf8"));
    expect(free.stats.a.max).toBe(3);
    expect(free.stats.b.max).toBe(6);
    expect(free.total.max).toBe(9); // both evals run at once
    const capped = await runCli(["--max-concurrency", "4"], { cwd: dir, env: { STATS_FILE: file } });
    expect(capped.code).toBe(0);
    const global = JSON.parse(readFileSync(file, "utf8"));
    expect(global.total.max).toBe(4);
    expect(global.stats.a.max).toBeLessThanOrEqual(3);
  });

  it("prints no warning for many evals and many rows in flight that read their signal", async () => {
    // Each eval listens on the run's stop signals, and each row in flight that reads its signal or has a timeout
    // does too: Node warns of a leak past 10 listeners unless told they are expected.
    const evals = Array.from(
      { length: 12 },
      (_, e) => `Eval("e${e}", {
  data: Array.from({ length: 30 }, (_, i) => ({ input: i })),
  task: async (i: number, hooks) => {
    const signal = hooks.signal;
    await Promise.all(Array.from({ length: 12 }, () => new Promise((r) => { signal.addEventListener("abort", r); setTimeout(r, 5); })));
    return i;
  },
  scores: [function ok() { return 1; }],
  maxConcurrency: 15,${e % 2 === 0 ? " timeout: 5000," : ""}
});`,
    ).join("\n");
    const dir = project({ "many.eval.ts": `import { Eval } from "evalrun";\n${evals}\n` });
    for (const workers of ["0", "2"]) {
      const result = await runCli(["--workers", workers, "--no-store"], { cwd: dir });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain("Done: 12 evals · 360 row results · 0 errors");
      expect(result.stderr).toBe("");
    }
  });

  it("lets eval files call require() for built-ins and the project's packages, beside their own createRequire", async () => {
    const dir = project({
      "node_modules/greeter/package.json": JSON.stringify({ name: "greeter", main: "index.js" }),
      "node_modules/greeter/index.js": `module.exports = { greet: (name) => "hello " + name };`,
      "lib/own.ts": `import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
export const cores = require("node:os").cpus().length > 0;`,
      "req.eval.ts": `import { Eval } from "evalrun";
import { cores } from "./lib/own";
const path = require("node:path");
const { greet } = require("greeter");
Eval("req", {
  data: [{ input: "ada", expected: "hello ada" }],
  task: (name: string) => greet(name),
  scores: [function exact({ output, expected }: any) { return output === expected && cores && path.sep.length === 1; }],
});
`,
    });
    const result = await runCli(["--jsonl", "--no-store"], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(jsonLines(result.stdout)[0]?.scores).toMatchObject({ exact: { score: 1 } });
  });

  it("runs a CommonJS eval file that requires evalrun", async () => {
    const dir = project({
      "plain.eval.cjs": `const { Eval, Levenshtein } = require("evalrun");
module.exports = { note: "a CommonJS module" };
Eval("plain", { data: [{ input: "abc", expected: "abd" }], task: (s) => s, scores: [Levenshtein] });
`,
    });
    const result = await runCli(["--jsonl", "--no-store"], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe("");
    const scores = jsonLines(result.stdout)[0]?.scores as Record<string, { score: number }>;
    expect(scores.Levenshtein?.score).toBeCloseTo(2 / 3, 9); // one edit in three characters
  });

  it("gives eval files their own __dirname, __filename and import.meta.url, from any working directory", async () => {
    const dir = project({
      "pkg/evals/data/rows.json": JSON.stringify([
        { input: "x", expected: "x" },
        { input: "y", expected: "y" },
      ]),
      "pkg/evals/lib/where.ts": `export const libDir = __dirname;`,
      "pkg/evals/fixture.eval.ts": `
        import { Eval } from "evalrun";
        import { readFileSync } from "node:fs";
        import path from "node:path";
        import { fileURLToPath } from "node:url";
        import { libDir } from "./lib/where";
        const viaDirname = JSON.parse(readFileSync(path.join(__dirname, "data/rows.json"), "utf8"));
        const viaUrl = JSON.parse(readFileSync(new URL("./data/rows.json", import.meta.url), "utf8"));
        const selfOk = fileURLToPath(import.meta.url) === __filename && __filename.endsWith("fixture.eval.ts");
        Eval("fixture", {
          data: [...viaDirname, ...viaUrl],
          task: (x: string) => x,
          scores: [function paths() { return selfOk && libDir.endsWith(path.join("evals", "lib")); }],
        });
      `,
    });
    // Run from outside the eval's folder: paths inside the eval file still resolve against the file.
    const result = await runCli(["--jsonl", "--no-store", path.join(dir, "pkg", "evals")], {
      cwd: path.join(dir),
    });
    expect(result.stderr).toBe("");
    const summary = summaryOf(result.stdout, "fixture");
    expect(summary.metrics.rows?.metric).toBe(4);
    expect(summary.scores.paths?.score).toBe(1);
  });

  it("resolves a package's exports as Node does (no `module` condition; server-only is Next's empty module)", async () => {
    const dir = project({
      "package.json": JSON.stringify({ name: "app", private: true, type: "module" }),
      "node_modules/dualpkg/package.json": JSON.stringify({
        name: "dualpkg",
        exports: { ".": { module: "./esm.mjs", import: "./wrapper.mjs", require: "./index.cjs" } },
      }),
      "node_modules/dualpkg/index.cjs": "class Thing {}\nmodule.exports = { Thing };\n",
      "node_modules/dualpkg/wrapper.mjs": 'import c from "./index.cjs";\nexport const Thing = c.Thing;\n',
      "node_modules/dualpkg/esm.mjs": "export class Thing {}\n",
      "node_modules/maker/package.json": JSON.stringify({ name: "maker", main: "index.js" }),
      "node_modules/maker/index.js":
        'const { Thing } = require("dualpkg");\nexports.make = () => new Thing();\n',
      // Next.js's server-only throws outside Next's react-server condition; an eval runs on the server.
      "node_modules/server-only/package.json": JSON.stringify({ name: "server-only", main: "index.js" }),
      "node_modules/server-only/index.js":
        'throw new Error("This module cannot be imported from a Client Component module.");\n',
      "lib/db.ts": 'import "server-only";\nexport const db = "db";\n',
      "dual.eval.ts": `import { Eval } from "evalrun";
import { Thing } from "dualpkg";
import { make } from "maker";
import { db } from "./lib/db";
if (db !== "db") throw new Error("server-only app code did not load");
Eval("dual", { data: [{ input: 1 }], task: () => make() instanceof Thing, scores: [function same({ output }: any) { return output === true; }] });
`,
    });
    const result = await runCli(["--jsonl", "--no-store"], { cwd: dir });
    expect(result.stderr).toBe("");
    expect(summaryOf(result.stdout, "dual").scores.same?.score).toBe(1);
  });

  it("compiles JSX with the automatic runtime when the tsconfig says preserve (Next.js), as Next does", async () => {
    const dir = project({
      "package.json": JSON.stringify({ name: "app", private: true, type: "module" }),
      "tsconfig.json":
        '{\n  // Next.js writes this\n  "compilerOptions": { "jsx": "preserve", "strict": true }\n}\n',
      // A stand-in for react's automatic runtime: what it is called with is what the test reads.
      "node_modules/react/package.json": JSON.stringify({
        name: "react",
        exports: { "./jsx-runtime": "./jsx-runtime.js" },
        type: "module",
      }),
      "node_modules/react/jsx-runtime.js":
        "export const jsx = (type, props) => ({ type, props });\nexport const jsxs = jsx;\nexport const Fragment = 'f';\n",
      "components/Card.tsx":
        'export function Card({ title }: { title: string }) {\n  return <div className="card">{title}</div>;\n}\n',
      "card.eval.ts": `import { Eval } from "evalrun";
import { Card } from "./components/Card";
Eval("card", { data: [{ input: "a" }], task: (title: string) => Card({ title }), scores: [function div({ output }: any) { return output.type === "div" && output.props.children === "a"; }] });
`,
    });
    const result = await runCli(["--jsonl", "--no-store"], { cwd: dir });
    expect(result.stderr).toBe("");
    expect(summaryOf(result.stdout, "card").scores.div?.score).toBe(1);
  });

  it("resolves what Node resolves at run time from the eval file, and imports a package's JSON", async () => {
    // require(name), require.resolve and import.meta.resolve used to resolve from the bundle's temporary directory.
    const dir = project({
      "package.json": JSON.stringify({ name: "app", private: true, type: "module" }),
      "node_modules/dataset-pkg/package.json": JSON.stringify({ name: "dataset-pkg", version: "1.2.3" }),
      "node_modules/dataset-pkg/rows.json": JSON.stringify([{ input: "r" }]),
      "evals/cfg.json": JSON.stringify({ v: "json" }),
      "evals/where.eval.ts": `
        import { Eval } from "evalrun";
        import rows from "dataset-pkg/rows.json" with { type: "json" };
        import pkg from "dataset-pkg/package.json";
        const name = "./cfg.json";
        const found = {
          required: require(name).v,
          resolved: require.resolve("./cfg.json"),
          metaResolved: import.meta.resolve("./cfg.json"),
          packageFile: require.resolve("dataset-pkg/package.json"),
          metaPackage: import.meta.resolve("dataset-pkg/package.json"),
          version: pkg.version,
        };
        Eval("where", { data: rows, task: () => found, scores: [() => 1] });
      `,
    });
    const result = await runCli(["--jsonl"], { cwd: dir });
    expect(result.stderr).toBe("");
    const row = JSON.parse(storedRows(path.join(dir, ".evalrun", "evalrun.db"))[0]?.event ?? "{}");
    const evals = path.join(realpathSync(dir), "evals");
    const modules = path.join(realpathSync(dir), "node_modules", "dataset-pkg");
    expect(row.output).toEqual({
      required: "json",
      resolved: path.join(evals, "cfg.json"),
      metaResolved: pathToFileURL(path.join(evals, "cfg.json")).href,
      packageFile: path.join(modules, "package.json"),
      metaPackage: pathToFileURL(path.join(modules, "package.json")).href,
      version: "1.2.3",
    });
  });
});
