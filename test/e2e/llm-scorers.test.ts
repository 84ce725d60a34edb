// The LLM scorers through the CLI, against the test provider running in this process. Faults are switched on by
// markers in the text the task outputs, since the CLI is another process.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { project, runCli, summaryOf } from "../helpers/cli.js";
import {
  CLEAN_LLM_ENV,
  cosine,
  type RecordedRequest,
  trigramVector,
  until,
  useProvider,
} from "../helpers/provider.js";
import { storedRows } from "../helpers/store.js";

const provider = useProvider();

interface StoredEvent {
  input: unknown;
  output?: unknown;
  scores: Record<string, number | null>;
  score_errors?: Record<string, string>;
  score_metadata?: Record<string, Record<string, unknown>>;
  metrics: Record<string, number>;
  error?: { kind: string; message: string };
  row_index: number;
}

/** The stored results of the newest run, by row index. */
function events(dir: string): StoredEvent[] {
  return storedRows(path.join(dir, "s.db"))
    .map((r) => JSON.parse(r.event) as StoredEvent)
    .sort((a, b) => a.row_index - b.row_index);
}

const run = (dir: string, env: Record<string, string | undefined> = provider.env()) =>
  runCli(["--jsonl", "--store", "s.db"], { cwd: dir, env });

const spent = (requests: RecordedRequest[]) =>
  requests.reduce(
    (sum, r) => ({
      prompt_tokens: sum.prompt_tokens + (r.usage?.prompt_tokens ?? 0),
      completion_tokens: sum.completion_tokens + (r.usage?.completion_tokens ?? 0),
      tokens: sum.tokens + (r.usage?.total_tokens ?? 0),
    }),
    { prompt_tokens: 0, completion_tokens: 0, tokens: 0 },
  );

// Keeps the process alive well past a row's timeout: an abort seen before then is the timeout's, not the exit's.
const KEEP_ALIVE = `Eval("keep-alive", {
  data: [{ input: 1 }],
  task: () => new Promise((resolve) => setTimeout(() => resolve(1), 2000)),
  scores: [() => 1],
});`;

describe("LLM scorers in a run", () => {
  it("scores with Factuality, a custom LLMClassifier and EmbeddingSimilarity, and stores choices and token usage", async () => {
    const dir = project({
      "qa.eval.ts": `
        import { EmbeddingSimilarity, Eval, Factuality, LLMClassifier } from "evalrun";
        const Same = LLMClassifier({
          name: "Same",
          promptTemplate: "Question {{input}} ({{metadata.topic}})\\n<output>\\n{{output}}\\n</output>\\n<expected>\\n{{expected}}\\n</expected>",
          choiceScores: { same: 1, different: 0 },
        });
        Eval("qa", {
          data: [
            { input: "q1", expected: "Paris", metadata: { topic: "geo" } },
            { input: "q2", expected: "Rome", metadata: { topic: "geo" } },
          ],
          task: (input: string) => (input === "q1" ? "Paris" : "Milan"),
          scores: [Factuality, Same, EmbeddingSimilarity],
        });
      `,
    });
    const result = await run(dir);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const milanRome = Math.max(0, (cosine(trigramVector("Milan"), trigramVector("Rome")) - 0.7) / 0.3);
    const summary = summaryOf(result.stdout, "qa");
    expect(summary.scores.Factuality?.score).toBe(0.5);
    expect(summary.scores.Same?.score).toBe(0.5);
    expect(summary.scores.EmbeddingSimilarity?.score).toBeCloseTo((1 + milanRome) / 2, 6);

    const chat = provider.requests.filter((r) => r.route === "chat");
    const embeddings = provider.requests.filter((r) => r.route === "embeddings");
    expect(chat).toHaveLength(4);
    // "Paris" is both output and expected of row 0: embedded once.
    expect(embeddings.map((r) => r.body.input).sort()).toEqual(["Milan", "Paris", "Rome"]);
    for (const r of provider.requests) {
      expect(r.path).toMatch(/^\/v1\/(chat\/completions|embeddings)$/);
      // No key configured: none sent.
      expect(r.headers.authorization).toBeUndefined();
    }
    expect(chat.map((r) => r.body.model)).toEqual(["gpt-4o", "gpt-4o", "gpt-4o", "gpt-4o"]);
    expect(chat.some((r) => r.text.includes("Question q1 (geo)"))).toBe(true);

    const [first, second] = events(dir);
    expect(first?.scores).toMatchObject({ Factuality: 1, Same: 1, EmbeddingSimilarity: 1 });
    expect(first?.score_metadata?.Factuality).toEqual({
      choice: "C",
      rationale: "The submission matches the reference.",
    });
    expect(second?.score_metadata?.Same).toMatchObject({ choice: "different" });
    expect(second?.scores.Factuality).toBe(0);
    // Each row's metrics hold the tokens of the calls made for it.
    const ofRow = (question: string, texts: string[]) =>
      spent(
        provider.requests.filter((r) =>
          r.route === "chat" ? r.text.includes(question) : texts.includes(r.body.input),
        ),
      );
    expect(first?.metrics).toMatchObject(ofRow("q1", ["Paris"]));
    expect(second?.metrics).toMatchObject(ofRow("q2", ["Milan", "Rome"]));
    expect(first?.metrics.prompt_tokens).toBeGreaterThan(0);
    // The summary totals them.
    const all = spent(provider.requests);
    expect(summary.metrics.tokens?.metric).toBe(all.tokens);
    expect(summary.metrics.prompt_tokens?.metric).toBe(all.prompt_tokens);
    expect(summary.metrics.completion_tokens?.metric).toBe(all.completion_tokens);
    // `show` gives the same totals the run printed.
    const shown = await runCli(["show", summary.experiment_name as string, "--store", "s.db"], {
      cwd: dir,
      env: { NO_COLOR: "1" },
    });
    expect(shown.stdout).toContain(
      `tokens      ${all.tokens.toLocaleString("en-US")} (${all.prompt_tokens.toLocaleString("en-US")} prompt, ${all.completion_tokens.toLocaleString("en-US")} completion)`,
    );
  });

  it("sends OPENAI_API_KEY as a bearer token to OPENAI_BASE_URL, here a proxy", async () => {
    const dir = project({
      "a.eval.ts": `import { Eval, Humor } from "evalrun";
        Eval("a", { data: [{ input: 1 }], task: () => "a joke", scores: [Humor] });`,
    });
    const result = await run(dir, {
      ...CLEAN_LLM_ENV,
      OPENAI_BASE_URL: provider.proxyBaseUrl,
      OPENAI_API_KEY: "sk-e2e-test",
      EVALRUN_LLM_MODEL: "small-judge",
    });
    expect(result.code).toBe(0);
    expect(summaryOf(result.stdout, "a").scores.Humor?.score).toBe(1);
    expect(provider.requests[0]?.path).toBe("/v1/proxy/chat/completions");
    expect(provider.requests[0]?.headers.authorization).toBe("Bearer sk-e2e-test");
    expect(provider.requests[0]?.body.model).toBe("small-judge");
    expect(result.output).not.toContain("sk-e2e-test");
  });

  it("retries a 429 after the wait its Retry-After asks for", async () => {
    const dir = project({
      "r.eval.ts": `import { Eval, Factuality } from "evalrun";
        Eval("r", {
          data: [{ input: "q", expected: "answer [[fault:429,retry-after=1,times=1]]" }],
          task: () => "answer [[fault:429,retry-after=1,times=1]]",
          scores: [Factuality],
        });`,
    });
    const result = await run(dir);
    expect(result.code).toBe(0);
    expect(summaryOf(result.stdout, "r").scores.Factuality?.score).toBe(1);
    expect(provider.requests.map((r) => r.status)).toEqual([429, 200]);
    const gap = (provider.requests[1]?.startedAt ?? 0) - (provider.requests[0]?.startedAt ?? 0);
    expect(gap).toBeGreaterThanOrEqual(990);
    expect(gap).toBeLessThan(2000);
  });

  it("--retry-errors asks the judge again for the rows it rate-limited, without running their tasks", async () => {
    const dir = project({
      "j.eval.ts": `import { Eval, Factuality } from "evalrun";
        import { appendFileSync } from "node:fs";
        const rows = ["Paris", "Rome [[fault:429,times=1]]", "Oslo [[fault:429,times=1]]"];
        Eval("j", {
          data: rows.map((answer, i) => ({ input: "q" + i, expected: answer })),
          task: (input: string) => {
            appendFileSync("tasks.log", input + "\\n");
            return rows[Number(input.slice(1))];
          },
          scores: [Factuality],
        });`,
    });
    const env = provider.env({ EVALRUN_LLM_MAX_RETRIES: "0" });
    const first = await run(dir, env);
    expect(first.code).toBe(1);
    expect(summaryOf(first.stdout, "j").metrics.errors?.metric).toBe(2);
    expect(provider.requests.map((r) => r.status).sort()).toEqual([200, 429, 429]);
    // Not reset: its fault counters must remember that each refusal was used once.
    const before = provider.requests.length;

    const retried = await runCli(["--retry-errors", "--no-progress", "--store", "s.db"], { cwd: dir, env });
    expect(retried.code).toBe(0);
    expect(retried.stdout).toContain("2 errored rows' scorers ran again on the stored output");
    // The tasks ran once each, in the first run; the judge was asked again for the two rows it refused.
    expect(readFileSync(path.join(dir, "tasks.log"), "utf8").trim().split("\n").sort()).toEqual([
      "q0",
      "q1",
      "q2",
    ]);
    const again = provider.requests.slice(before);
    expect(again.map((r) => r.status)).toEqual([200, 200]);
    const retriedRows = events(dir).filter((e) => e.scores.Factuality !== undefined);
    expect(retriedRows.map((e) => [e.input, e.scores.Factuality])).toEqual([
      ["q0", 1],
      ["q0", 1],
      ["q1", 1],
      ["q2", 1],
    ]);
    // A re-scored row's tokens are the judge's second call (the refused one reported none).
    const q1 = events(dir)
      .filter((e) => e.input === "q1")
      .at(-1);
    expect(q1?.metrics).toMatchObject(spent(again.filter((r) => r.text.includes("Rome"))));
  });

  it("aborts a judge's call when the row times out: the row records the timeout, the server sees the request go", async () => {
    const dir = project({
      "t.eval.ts": `import { Eval, Factuality } from "evalrun";
        Eval("slow-judge", {
          data: [{ input: "q", expected: "a" }],
          task: () => "a [[fault:slow,ms=10000]]",
          scores: [Factuality],
          // Long enough for a worker thread to start and send the request on a loaded machine.
          timeout: 800,
        });
        ${KEEP_ALIVE}`,
    });
    const result = await run(dir);
    expect(result.code).toBe(1);
    expect(result.ms).toBeGreaterThanOrEqual(2000);
    const row = events(dir).find((e) => e.error !== undefined);
    expect(row?.error?.kind).toBe("timeout");
    expect(row?.error?.message).toContain("while scoring");
    expect(provider.requests).toHaveLength(1);
    await until(() => provider.requests[0]?.aborted === true);
    const request = provider.requests[0] as RecordedRequest;
    // Aborted within the row's 800 ms, long before the process exited (2 s or more).
    expect((request.abortedAt ?? 0) - request.startedAt).toBeLessThan(800);
    expect(provider.requests).toHaveLength(1);
  });

  it("gives judges the row's signal through .partial() and spread args: their tokens count, a timeout stops them", async () => {
    // autoevals' usual ways of configuring a judge: neither passes the engine's signal (a getter) on by itself.
    const dir = project({
      "p.eval.ts": `import { ClosedQA, Eval, Factuality, Humor } from "evalrun";
        Eval("partial", {
          data: [{ input: "q1", expected: "a" }, { input: "q2", expected: "b" }],
          task: (input: string) => \`answer to \${input}\`,
          scores: [
            ClosedQA.partial({ criteria: "Is it right?" }),
            (args) => Factuality({ ...args, model: "judge-2" }),
            // Called after an await, when another row's code may be running: still this row's.
            async (args) => { await new Promise((r) => setTimeout(r, 5)); return Humor({ ...args }); },
          ],
        });
        Eval("partial-slow", {
          data: [{ input: "s1" }, { input: "s2" }],
          task: (input: string) => \`\${input} [[fault:slow,ms=10000]]\`,
          scores: [
            input => ClosedQA.partial({ criteria: "c" })(input),
            (args) => Factuality({ ...args, expected: "x" }),
          ],
          timeout: 800,
        });
        ${KEEP_ALIVE}`,
    });
    // In the main thread: a worker's start on a loaded machine could take the row's 800 ms before any request.
    const result = await runCli(["--jsonl", "--store", "s.db", "--workers", "0"], {
      cwd: dir,
      env: provider.env(),
    });
    expect(result.code).toBe(1);
    const rows = events(dir);
    for (const question of ["q1", "q2"]) {
      const row = rows.find((e) => e.input === question);
      const calls = provider.requests.filter(
        (r) => r.route === "chat" && r.text.includes(`answer to ${question}`),
      );
      expect(calls).toHaveLength(3);
      expect(row?.metrics).toMatchObject(spent(calls));
      expect(row?.metrics.tokens).toBeGreaterThan(0);
    }
    const slow = provider.requests.filter((r) => r.text.includes("fault:slow"));
    expect(slow).toHaveLength(4);
    await until(() => slow.every((r) => r.aborted === true));
    for (const r of slow) expect((r.abortedAt ?? 0) - r.startedAt).toBeLessThan(1500);
    expect(rows.filter((e) => e.error?.kind === "timeout")).toHaveLength(2);
  });

  it("without a provider, each LLM score errors with one message naming the variables; other scorers still score", async () => {
    const dir = project({
      "n.eval.ts": `import { Eval, Factuality, Humor } from "evalrun";
        Eval("n", {
          data: [{ input: "a", expected: "A" }, { input: "b", expected: "B" }, { input: "c", expected: "x" }],
          task: (input: string) => input.toUpperCase(),
          scores: [Factuality, function exact({ output, expected }: any) { return output === expected; }, Humor],
        });`,
    });
    const result = await run(dir, { ...CLEAN_LLM_ENV });
    expect(result.code).toBe(1);
    const summary = summaryOf(result.stdout, "n");
    expect(summary.scores.exact?.score).toBeCloseTo(2 / 3, 10);
    expect(summary.scores.exact?.scored).toBe(3);
    expect(summary.scores.Factuality).toMatchObject({ scored: 0, errors: 3 });
    const messages = events(dir).map((e) => e.score_errors?.Factuality);
    expect(new Set(messages).size).toBe(1);
    for (const name of [
      "OPENAI_API_KEY",
      "EVALRUN_LLM_BASE_URL",
      "EVALRUN_LLM_API_KEY",
      "init({ client })",
    ]) {
      expect(messages[0]).toContain(name);
    }
    expect(messages[0]).toMatch(/^Scorer "Factuality" threw EvalrunError: No LLM provider is configured/);
    expect(provider.requests).toHaveLength(0);
    // The human report shows it once, for both LLM scorers and all three rows.
    const text = await runCli(["--store", "s.db"], { cwd: dir, env: { ...CLEAN_LLM_ENV } });
    expect(text.stdout.match(/No LLM provider is configured/g)).toHaveLength(1);
    expect(text.stdout).toContain("(and 5 more with this error)");
  });

  it("lists a provider's error once when its answers differ only in numbers (OpenAI's 429s say tokens used, waits)", async () => {
    const dir = project({
      "r.eval.ts": `import { Eval, Factuality } from "evalrun";
        Eval("r", {
          data: Array.from({ length: 6 }, (_, i) => ({
            input: \`q\${i} [[fault:429,times=9,message=Rate limit reached on tokens per min (TPM): Limit 30000; Used \${29000 + i * 37}; Requested \${200 + i}. Please try again in 1.\${i}s. Request req_abc\${i}x]]\`,
            expected: "a",
          })),
          task: (input: string) => input,
          scores: [Factuality],
        });`,
    });
    const result = await runCli(["--no-store", "--no-progress"], {
      cwd: dir,
      env: provider.env({ EVALRUN_LLM_MAX_RETRIES: "0" }),
    });
    expect(result.code).toBe(1);
    expect(result.stdout.match(/answered 429 Too Many Requests: Rate limit reached/g)).toHaveLength(1);
    expect(result.stdout).toContain("(and 5 more with this error)");
  });

  it("reports unusable answers per row: unknown choice, no tool call, malformed body, a 4xx; other scorers still score", async () => {
    const faults = [
      "[[fault:choice,value=Z]]",
      "[[fault:no-tool-call]]",
      "[[fault:malformed]]",
      "[[fault:400,message=Invalid model name]]",
    ];
    const dir = project({
      "b.eval.ts": `import { Eval, Factuality } from "evalrun";
        Eval("bad", {
          data: ${JSON.stringify(faults.map((f) => ({ input: f, expected: "x" })))},
          task: (input: string) => "x " + input,
          scores: [Factuality, function length({ output }: any) { return output.length > 0; }],
        });`,
    });
    const result = await run(dir);
    expect(result.code).toBe(1);
    const summary = summaryOf(result.stdout, "bad");
    expect(summary.scores.length).toMatchObject({ score: 1, scored: 4 });
    expect(summary.scores.Factuality).toMatchObject({ scored: 0, errors: 4 });
    const [choice, noCall, malformed, status] = events(dir).map((e) => e.score_errors?.Factuality ?? "");
    expect(choice).toContain('The model chose "Z", which is not one of "A", "B", "C", "D", "E".');
    expect(choice).toContain("The model's rationale: The submission matches the reference.");
    expect(noCall).toContain("The model did not call `select_choice`");
    expect(noCall).toContain("The model's rationale: I think the answer is C.");
    expect(malformed).toContain(
      `The LLM provider at ${provider.baseUrl} answered 200 with a body that is not JSON`,
    );
    expect(status).toContain("answered 400 Bad Request: Invalid model name (POST /chat/completions)");
    // Neither the malformed body nor the 400 was retried.
    expect(provider.requests).toHaveLength(4);
  });
});
