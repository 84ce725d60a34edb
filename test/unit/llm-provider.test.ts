// The test provider itself: the other LLM tests rely on its answers and switches.
import { describe, expect, it } from "vitest";
import { startProvider, useProvider } from "../helpers/provider.js";

const provider = useProvider();

const post = (path: string, body: unknown) =>
  fetch(`${provider.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

// biome-ignore lint/suspicious/noExplicitAny: the answers are checked field by field
const json = async (response: Response): Promise<any> => response.json();

const judgeRequest = (prompt: string, extra: Record<string, unknown> = {}) => ({
  model: "m",
  messages: [{ role: "user", content: prompt }],
  tools: [
    {
      type: "function",
      function: {
        name: "pick",
        parameters: {
          type: "object",
          properties: { reasoning: { type: "string" }, choice: { enum: ["Y", "N"] } },
        },
      },
    },
  ],
  tool_choice: { type: "function", function: { name: "pick" } },
  ...extra,
});

/** The data lines of an SSE body. */
function events(text: string): string[] {
  return text
    .split("\n\n")
    .filter((block) => block.startsWith("data: "))
    .map((block) => block.slice("data: ".length));
}

describe("the test provider", () => {
  it("picks the positive choice when the submission equals the reference, the negative one otherwise", async () => {
    const same = await json(
      await post(
        "/v1/chat/completions",
        judgeRequest("<submission>\na\n</submission><reference>\na\n</reference>"),
      ),
    );
    const call = same.choices[0].message.tool_calls[0];
    expect(call.function.name).toBe("pick");
    expect(JSON.parse(call.function.arguments)).toEqual({
      reasoning: "The submission matches the reference.",
      choice: "Y",
    });
    expect(same.usage.total_tokens).toBe(same.usage.prompt_tokens + same.usage.completion_tokens);
    const differs = await json(
      await post("/v1/proxy/chat/completions", judgeRequest("<output>a</output><expected>b</expected>")),
    );
    expect(JSON.parse(differs.choices[0].message.tool_calls[0].function.arguments).choice).toBe("N");
    expect(provider.requests.map((r) => r.path)).toEqual([
      "/v1/chat/completions",
      "/v1/proxy/chat/completions",
    ]);
  });

  it("streams tool calls and text as SSE chunks ending in [DONE], with usage when asked", async () => {
    const response = await post(
      "/v1/chat/completions",
      judgeRequest("<submission>\nx\n</submission><reference>\nx\n</reference>", {
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const data = events(await response.text());
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    const args = chunks
      .flatMap((c) => c.choices)
      .map((c) => c.delta?.tool_calls?.[0]?.function?.arguments ?? "")
      .join("");
    expect(JSON.parse(args).choice).toBe("Y");
    expect(chunks.at(-2).choices[0].finish_reason).toBe("tool_calls");
    expect(chunks.at(-1).usage.prompt_tokens).toBeGreaterThan(0);

    const text = events(
      await (
        await post("/v1/chat/completions", {
          model: "m",
          messages: [{ role: "user", content: "hi there" }],
          stream: true,
        })
      ).text(),
    );
    const content = text
      .slice(0, -1)
      .map((d) => JSON.parse(d).choices[0]?.delta?.content ?? "")
      .join("");
    expect(content).toBe("echo: hi there");
  });

  it("embeds deterministically, one vector per input", async () => {
    const body = await json(await post("/v1/embeddings", { model: "e", input: ["abc", "abc", "xyz"] }));
    const [a, b, c] = body.data.map((d: { embedding: number[] }) => d.embedding);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a).toHaveLength(256);
    expect((await post("/v1/embeddings", { model: "e", input: "" })).status).toBe(400);
  });

  it("misbehaves on request through markers, counting per request body", async () => {
    const marked = judgeRequest("hello [[fault:429,retry-after=2,times=1]]");
    const first = await post("/v1/chat/completions", marked);
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("2");
    expect((await post("/v1/chat/completions", marked)).status).toBe(200);
    const malformed = await post("/v1/chat/completions", judgeRequest("[[fault:malformed]]"));
    await expect(malformed.json()).rejects.toThrow();
    const prose = await json(await post("/v1/chat/completions", judgeRequest("[[fault:no-tool-call]]")));
    expect(prose.choices[0].message.tool_calls).toBeUndefined();
    expect(prose.choices[0].message.content).toMatch(/^I think the answer is/);
    const odd = await json(await post("/v1/chat/completions", judgeRequest("[[fault:choice,value=Maybe]]")));
    expect(JSON.parse(odd.choices[0].message.tool_calls[0].function.arguments).choice).toBe("Maybe");
    expect((await post("/v1/nothing", {})).status).toBe(404);
  });

  it("checks the key when started with one", async () => {
    const guarded = await startProvider({ apiKey: "sk-ok" });
    try {
      const denied = await fetch(`${guarded.baseUrl}/embeddings`, {
        method: "POST",
        headers: { authorization: "Bearer sk-bad" },
        body: JSON.stringify({ model: "e", input: "x" }),
      });
      expect(denied.status).toBe(401);
      const allowed = await fetch(`${guarded.baseUrl}/embeddings`, {
        method: "POST",
        headers: { authorization: "Bearer sk-ok" },
        body: JSON.stringify({ model: "e", input: "x" }),
      });
      expect(allowed.status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});
