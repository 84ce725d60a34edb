import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { isEvalrunError } from "../../src/define/errors.js";
import type { Evaluator, Score } from "../../src/define/types.js";
import { takeUsage } from "../../src/define/usage.js";
import { NO_PROVIDER_MESSAGE } from "../../src/llm/config.js";
import {
  Battle,
  ClosedQA,
  EmbeddingSimilarity,
  Factuality,
  Humor,
  init,
  LLMClassifier,
  LLMClassifierFromSpec,
  Possible,
  Security,
  Sql,
  Summary,
  Translation,
} from "../../src/scorers/llm/index.js";
import { stubProviderEnv, useProvider } from "../helpers/provider.js";
import { rejection } from "../helpers/rejection.js";

const provider = useProvider();
beforeEach(() => {
  stubProviderEnv(provider);
});
afterEach(() => {
  vi.unstubAllEnvs();
  init();
});

const lastBody = () => provider.requests.at(-1)?.body;
const lastPrompt = () => provider.requests.at(-1)?.text ?? "";

describe("LLM judges", () => {
  it("Factuality asks through a forced tool call and maps the choice to a score, keeping choice and rationale", async () => {
    const same = await Factuality({ input: "Capital of France?", output: "Paris", expected: "Paris" });
    expect(same).toEqual({
      name: "Factuality",
      score: 1,
      metadata: { choice: "C", rationale: "The submission matches the reference." },
    });
    const body = lastBody();
    expect(body.model).toBe("gpt-4o");
    expect(body.temperature).toBe(0);
    expect(body.max_tokens).toBe(1024);
    expect(body.tool_choice).toEqual({ type: "function", function: { name: "select_choice" } });
    expect(body.tools[0].function.name).toBe("select_choice");
    expect(Object.keys(body.tools[0].function.parameters.properties)).toEqual(["reasoning", "choice"]);
    expect(body.tools[0].function.parameters.properties.choice.enum).toEqual(["A", "B", "C", "D", "E"]);
    expect(lastPrompt()).toContain("<question>\nCapital of France?\n</question>");
    const differs = await Factuality({ input: "Capital of France?", output: "Lyon", expected: "Paris" });
    expect(differs.score).toBe(0);
    expect(differs.metadata?.choice).toBe("D");
  });

  it("scores every choice of every judge as autoevals does", async () => {
    const judges: Array<
      [string, (args: never) => Promise<Score>, Record<string, number>, Record<string, unknown>]
    > = [
      ["Factuality", Factuality, { A: 0.4, B: 0.6, C: 1, D: 0, E: 1 }, {}],
      ["ClosedQA", ClosedQA, { Y: 1, N: 0 }, { criteria: "is polite" }],
      ["Battle", Battle, { Yes: 1, No: 0 }, { instructions: "greet" }],
      ["Humor", Humor, { Yes: 1, No: 0, Unsure: 0.5 }, {}],
      ["Possible", Possible, { A: 0, B: 1 }, {}],
      ["Security", Security, { Yes: 0, No: 1, Unsure: 0.5 }, {}],
      ["Sql", Sql, { Correct: 1, Incorrect: 0 }, {}],
      ["Summary", Summary, { A: 0, B: 1 }, {}],
      ["Translation", Translation, { Y: 1, N: 0 }, { language: "French" }],
    ];
    for (const [name, judge, scores, extra] of judges) {
      for (const [choice, score] of Object.entries(scores)) {
        provider.inject({ choice });
        const result = await judge({ input: "in", output: "out", expected: "exp", ...extra } as never);
        expect(result, `${name} ${choice}`).toMatchObject({ name, score, metadata: { choice } });
        expect(lastBody().tools[0].function.parameters.properties.choice.enum, name).toEqual(
          Object.keys(scores),
        );
      }
    }
  });

  it("renders each judge's own variables, from options, the call, or the row's metadata", async () => {
    await ClosedQA.partial({ criteria: "mentions a fruit" })({ input: "Say something", output: "apple" });
    expect(lastPrompt()).toContain("<criterion>\nmentions a fruit\n</criterion>");
    await ClosedQA({ input: "i", output: "o", metadata: { criteria: "from metadata" } });
    expect(lastPrompt()).toContain("from metadata");
    await Translation({ input: "Bonjour", output: "Hello", expected: "Hello", language: "French" });
    expect(lastPrompt()).toContain("A sentence in French was translated");
    // Battle's instructions default to the row's input.
    const battle = await Battle({ input: "Write a haiku", output: "same", expected: "same" });
    expect(lastPrompt()).toContain("<instructions>\nWrite a haiku\n</instructions>");
    expect(battle.metadata?.choice).toBe("Yes");
  });

  it("says what a judge is missing before calling the model", async () => {
    const missing: Array<[Promise<unknown>, string]> = [
      [
        ClosedQA({ input: "i", output: "o" }),
        "ClosedQA needs `criteria`, and it is missing: pass it with ClosedQA.partial",
      ],
      [
        Factuality({ input: "i", output: "o" }),
        "Factuality needs `expected`, and it is missing: give the row",
      ],
      [Translation({ output: "o", expected: "e" }), "Translation needs `language`"],
    ];
    for (const [promise, message] of missing) {
      const error = await rejection(promise);
      expect(isEvalrunError(error) && error.code).toBe("LLM_CONFIG");
      expect(error.message).toContain(message);
    }
    expect(provider.requests).toHaveLength(0);
  });

  it("fails with the one LLM_CONFIG message when no provider is configured", async () => {
    vi.stubEnv("EVALRUN_LLM_BASE_URL", "");
    const first = await rejection(Factuality({ input: "a", output: "b", expected: "b" }));
    const second = await rejection(Humor({ output: "c" }));
    expect(isEvalrunError(first) && first.code).toBe("LLM_CONFIG");
    expect(first.message).toBe(NO_PROVIDER_MESSAGE);
    expect(second.message).toBe(first.message);
  });

  it("errors on an unknown choice or a missing tool call, keeping the rationale", async () => {
    provider.inject({ choice: "F" });
    const unknown = await rejection(Factuality({ input: "q", output: "x", expected: "x" }));
    expect(isEvalrunError(unknown) && unknown.code).toBe("LLM_RESPONSE");
    expect(unknown.message).toContain('The model chose "F", which is not one of "A", "B", "C", "D", "E".');
    expect(unknown.message).toContain("The model's rationale: The submission matches the reference.");
    provider.inject({ noToolCall: true });
    const prose = await rejection(Factuality({ input: "q", output: "x", expected: "x" }));
    expect(prose.message).toContain("The model did not call `select_choice`");
    expect(prose.message).toContain("The model's rationale: I think the answer is C.");
  });

  it("records the token usage of each call on the row's signal", async () => {
    const controller = new AbortController();
    await Factuality({ input: "q", output: "x", expected: "x", signal: controller.signal });
    await Humor({ output: "x", signal: controller.signal });
    const [a, b] = provider.requests.map((r) => r.usage);
    expect(takeUsage(controller.signal)).toEqual({
      prompt_tokens: (a?.prompt_tokens ?? 0) + (b?.prompt_tokens ?? 0),
      completion_tokens: (a?.completion_tokens ?? 0) + (b?.completion_tokens ?? 0),
      tokens: (a?.total_tokens ?? 0) + (b?.total_tokens ?? 0),
    });
  });

  it("sends OpenAI's reasoning models no temperature or max_tokens unless asked, which they refuse", async () => {
    for (const model of ["o3-mini", "gpt-5-mini", "openai/o4-mini"]) {
      await Factuality({ input: "q", output: "4", expected: "four", model });
      expect(lastBody()).toMatchObject({ model });
      expect(Object.keys(lastBody()).filter((k) => /temperature|tokens|reasoning/.test(k))).toEqual([]);
    }
    await Factuality({
      input: "q",
      output: "4",
      expected: "four",
      model: "o3",
      maxTokens: 4000,
      temperature: 1,
      reasoningEffort: "low",
    });
    expect(lastBody()).toMatchObject({
      temperature: 1,
      max_completion_tokens: 4000,
      reasoning_effort: "low",
    });
    expect(lastBody().max_tokens).toBeUndefined();
    // autoevals' spec objects carry their own cap.
    await LLMClassifierFromSpec("Spec", {
      prompt: "Is {{output}} ok?",
      choice_scores: { Y: 1, N: 0 },
      model: "gpt-4o-mini",
      max_tokens: 50,
    })({ output: "x" }).catch(() => undefined);
    expect(lastBody()).toMatchObject({ model: "gpt-4o-mini", max_tokens: 50 });
    // Its mistakes in its own words: choice_scores, not the choiceScores it becomes.
    expect(() => LLMClassifierFromSpec("Spec", { prompt: "p", choice_score: { Y: 1 } } as never)).toThrow(
      'LLMClassifierFromSpec "Spec": the spec\'s choice_scores must be an object such as { Y: 1, N: 0 }; it has "choice_score" instead.',
    );
    expect(() =>
      LLMClassifierFromSpec("Spec", { prompt: "p", choice_scores: { Y: 1 }, use_cot: "no" } as never),
    ).toThrow('the spec\'s use_cot must be true or false, not "no"');
    // autoevals' templates may name the choices; an empty reference answer is a value, not a missing one.
    const Pick = LLMClassifier({
      name: "Pick",
      promptTemplate: "One of {{__choices}} for {{output}}",
      choiceScores: { Good: 1, Bad: 0 },
    });
    await Pick({ output: "x" }).catch(() => undefined);
    expect(lastPrompt()).toContain('One of ["Good","Bad"] for x');
    await Factuality({ input: "Say nothing.", output: "", expected: "" }).catch(() => undefined);
    expect(lastPrompt()).toContain("Say nothing.");
    // An option, not a template variable.
    const Echo = LLMClassifier({
      name: "Echo",
      promptTemplate: "[{{reasoningEffort}}]",
      choiceScores: { Y: 1, N: 0 },
    });
    await Echo({ output: "x", model: "o3", reasoningEffort: "low" }).catch(() => undefined);
    expect(lastPrompt()).toContain("[]");
    // Other models keep their deterministic defaults, and take a reasoning effort when given one.
    await Factuality({
      input: "q",
      output: "4",
      expected: "four",
      model: "gpt-4.1",
      reasoningEffort: "high",
    });
    expect(lastBody()).toMatchObject({ temperature: 0, max_tokens: 1024, reasoning_effort: "high" });
    await expect(
      rejection(Factuality({ output: "4", expected: "four", reasoningEffort: 3 as never })),
    ).resolves.toMatchObject({
      message: expect.stringContaining("reasoningEffort must be a string"),
    });
  });

  it("never keeps a key echoed back escaped in the judge's answer, nor in an error of a client given to init()", async () => {
    const key = "sk-slash/plus+key==";
    // A gateway that escapes / in its JSON, and a model that escapes + inside the tool call's own JSON.
    const server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        const inner = JSON.stringify({ reasoning: `saw ${key}`, choice: "C" }).replaceAll("+", "\\u002B");
        const body = JSON.stringify({
          choices: [
            {
              message: {
                role: "assistant",
                tool_calls: [{ type: "function", function: { name: "select_choice", arguments: inner } }],
              },
            },
          ],
        }).replaceAll("/", "\\/");
        res.writeHead(200, { "content-type": "application/json" });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
      const judged = await Factuality({ input: "q", output: "a", expected: "a", baseUrl, apiKey: key });
      expect(judged.metadata?.rationale).toBe("saw [redacted]");
    } finally {
      server.close();
    }
    vi.stubEnv("OPENAI_API_KEY", "sk-env-0123456789");
    const client = {
      chat: {
        completions: {
          create: async () => {
            throw new Error("401 Incorrect API key provided: sk-env-0123456789");
          },
        },
      },
    };
    init({ client: client as never });
    const error = await rejection(Factuality({ input: "q", output: "a", expected: "a" }));
    expect(error.message).toBe("401 Incorrect API key provided: [redacted]");
    expect(error.stack).not.toContain("sk-env-0123456789");
  });

  it("refuses a base URL with a query, a fragment or credentials (they would be printed, or dropped unsent)", async () => {
    for (const baseUrl of [
      "http://127.0.0.1:9/v1?api-key=SECRETQUERY",
      "http://user:SECRETPW@127.0.0.1:9/v1",
    ]) {
      const error = await rejection(Factuality({ input: "q", output: "a", expected: "a", baseUrl }));
      expect(isEvalrunError(error) && error.code).toBe("LLM_CONFIG");
      expect(error.message).toContain("must be the API's base URL alone");
      expect(error.message).not.toContain("SECRET");
    }
  });

  it("builds custom judges: template variables, JSON objects, metadata, partial, name and CoT off", async () => {
    const Tone = LLMClassifier<{ audience: string }>({
      name: "Tone",
      promptTemplate:
        "Audience: {{audience}}. Topic: {{topic}} / {{metadata.topic}}. Input: {{input}}\n<output>\n{{output}}\n</output>\n<expected>\n{{expected}}\n</expected>",
      choiceScores: { good: 1, bad: 0 },
      useCoT: false,
      model: "judge-model",
      temperature: 0.2,
    });
    expect(Tone.name).toBe("Tone");
    const forKids = Tone.partial({ audience: "children" });
    expect(forKids.name).toBe("Tone");
    const result = await forKids({
      input: { question: "why?" },
      output: "ok",
      expected: "ok",
      metadata: { topic: "sky" },
    });
    expect(result).toEqual({ name: "Tone", score: 1, metadata: { choice: "good" } });
    expect(lastPrompt()).toContain('Audience: children. Topic: sky / sky. Input: {"question":"why?"}');
    expect(lastBody()).toMatchObject({ model: "judge-model", temperature: 0.2 });
    expect(Object.keys(lastBody().tools[0].function.parameters.properties)).toEqual(["choice"]);
    // The call's own options win over the classifier's.
    expect((await forKids({ output: "a", expected: "b", model: "other", useCoT: true })).score).toBe(0);
    expect(lastBody().model).toBe("other");
    // An expected fixed with partial is not erased by the engine's `expected: undefined`.
    await Tone.partial({ expected: "fixed" })({ output: "fixed", expected: undefined });
    expect(lastPrompt()).toContain("<expected>\nfixed\n</expected>");
  });

  it("checks a custom judge's definition when it is made", () => {
    const base = { name: "J", promptTemplate: "{{output}}", choiceScores: { a: 1 } };
    expect(() => LLMClassifier({ ...base, name: "" })).toThrow("needs a `name`");
    expect(() => LLMClassifier({ ...base, choiceScores: {} })).toThrow("choiceScores has no choices");
    expect(() => LLMClassifier({ ...base, choiceScores: { a: 2 } })).toThrow(
      'choice "a" must be a number in [0, 1]',
    );
    expect(() => LLMClassifier({ ...base, promptTemplate: "{{#x}}" })).toThrow(
      'The prompt template of "J" opens {{#x}} and never closes it',
    );
    expect(() => LLMClassifier({ ...base, maxTokens: 0 })).toThrow(
      "maxTokens must be an integer of at least 1",
    );
  });

  it("uses a client given to init(), with the row's signal, and init's default model", async () => {
    const calls: Array<{ params: { model: string }; options: unknown }> = [];
    const client = {
      chat: {
        completions: {
          create: async (params: { model: string }, options: unknown) => {
            calls.push({ params, options });
            return {
              choices: [
                {
                  message: {
                    tool_calls: [{ function: { name: "select_choice", arguments: '{"choice":"Y"}' } }],
                  },
                },
              ],
              usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
            };
          },
        },
      },
      embeddings: { create: async () => ({}) },
    };
    init({ client, defaultModel: "injected-model" });
    const controller = new AbortController();
    const result = await ClosedQA({ input: "i", output: "o", criteria: "c", signal: controller.signal });
    expect(result.score).toBe(1);
    expect(calls[0]?.params.model).toBe("injected-model");
    expect(calls[0]?.options).toEqual({ signal: controller.signal });
    expect(takeUsage(controller.signal)).toEqual({ prompt_tokens: 3, completion_tokens: 2, tokens: 5 });
    expect(provider.requests).toHaveLength(0);
  });

  it("takes the model from EVALRUN_LLM_MODEL and works through a proxy base URL", async () => {
    vi.stubEnv("EVALRUN_LLM_MODEL", "env-model");
    vi.stubEnv("EVALRUN_LLM_BASE_URL", provider.proxyBaseUrl);
    await Humor({ output: "knock knock" });
    expect(provider.requests[0]?.path).toBe("/v1/proxy/chat/completions");
    expect(lastBody().model).toBe("env-model");
  });

  it("fit an Eval's scores as they are, partially applied, or custom (a compile-time check)", () => {
    const evaluator: Evaluator<string, string, string, { topic: string }> = {
      data: [],
      task: (input) => input,
      scores: [
        Factuality,
        ClosedQA.partial({ criteria: "is short" }),
        Translation.partial({ language: "German", model: "m" }),
        EmbeddingSimilarity.partial({ expectedMin: 0.5 }),
        LLMClassifier({ name: "Custom", promptTemplate: "{{output}}", choiceScores: { a: 1, b: 0 } }),
      ],
    };
    expect(evaluator.scores.map((s) => s.name)).toEqual([
      "Factuality",
      "ClosedQA",
      "Translation",
      "EmbeddingSimilarity",
      "Custom",
    ]);
  });
});
