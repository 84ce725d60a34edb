import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { type EvalrunError, isEvalrunError } from "../../src/define/errors.js";
import type { HttpConfig } from "../../src/llm/config.js";
import { createHttpClient } from "../../src/llm/http-client.js";
import { backoffMs, retryAfterMs } from "../../src/llm/retry.js";
import { startProvider, until, useProvider } from "../helpers/provider.js";
import { rejection } from "../helpers/rejection.js";

const provider = useProvider();

const config = (over: Partial<HttpConfig> = {}): HttpConfig => ({
  baseUrl: provider.baseUrl,
  apiKey: undefined,
  headers: {},
  concurrency: 16,
  timeoutMs: 5000,
  maxRetries: 3,
  retryBaseMs: 20,
  retryMaxMs: 200,
  retryAfterCapMs: 60_000,
  ...over,
});

const chat = { model: "m", messages: [{ role: "user", content: "hello" }] };

describe("the LLM HTTP client", () => {
  it("posts JSON to {base}/chat/completions and {base}/embeddings, with no Authorization when there is no key", async () => {
    const client = createHttpClient(config());
    const answer = await client.chat.completions.create(chat);
    expect(answer.choices[0].message.content).toBe("echo: hello");
    await client.embeddings.create({ model: "e", input: "x" });
    expect(provider.requests.map((r) => r.path)).toEqual(["/v1/chat/completions", "/v1/embeddings"]);
    const headers = provider.requests[0]?.headers ?? {};
    expect(headers["content-type"]).toBe("application/json");
    expect(headers.authorization).toBeUndefined();
    expect(provider.requests[0]?.body).toEqual(chat);
  });

  it("sends the key as a bearer token, extra headers, and works against a proxy base URL", async () => {
    const client = createHttpClient(
      config({ baseUrl: provider.proxyBaseUrl, apiKey: "sk-test", headers: { "x-bt-use-cache": "never" } }),
    );
    await client.chat.completions.create(chat);
    const request = provider.requests[0];
    expect(request?.path).toBe("/v1/proxy/chat/completions");
    expect(request?.headers.authorization).toBe("Bearer sk-test");
    expect(request?.headers["x-bt-use-cache"]).toBe("never");
  });

  it("retries a 429 after the wait its Retry-After asks for", async () => {
    provider.inject({ status: 429, retryAfter: "1" });
    const started = Date.now();
    await createHttpClient(config()).chat.completions.create(chat);
    const waited = Date.now() - started;
    expect(provider.requests.map((r) => r.status)).toEqual([429, 200]);
    const gap = (provider.requests[1]?.startedAt ?? 0) - (provider.requests[0]?.startedAt ?? 0);
    // 1 s as asked, plus at most 20% of jitter; the 20 ms backoff would have retried far sooner.
    expect(gap).toBeGreaterThanOrEqual(990);
    expect(waited).toBeLessThan(1600);
  });

  it("reads Retry-After as seconds or an HTTP date, and retry-after-ms first", () => {
    const now = Date.parse("2030-01-01T00:00:00Z");
    expect(retryAfterMs({ "retry-after": "2" }, now)).toBe(2000);
    expect(retryAfterMs({ "retry-after": "0.5" }, now)).toBe(500);
    expect(retryAfterMs({ "retry-after": "Tue, 01 Jan 2030 00:00:03 GMT" }, now)).toBe(3000);
    expect(retryAfterMs({ "retry-after": "Mon, 31 Dec 2029 00:00:00 GMT" }, now)).toBe(0);
    expect(retryAfterMs({ "retry-after-ms": "250", "retry-after": "9" }, now)).toBe(250);
    expect(retryAfterMs({ "retry-after": "soon" }, now)).toBeUndefined();
    expect(retryAfterMs({}, now)).toBeUndefined();
  });

  it("backs off exponentially with jitter, capped", () => {
    expect(backoffMs(0, 1000, 30_000, () => 0)).toBe(500);
    expect(backoffMs(0, 1000, 30_000, () => 1)).toBe(1000);
    expect(backoffMs(3, 1000, 30_000, () => 1)).toBe(8000);
    expect(backoffMs(10, 1000, 30_000, () => 1)).toBe(30_000);
  });

  it("backs off and retries after 500s, then succeeds", async () => {
    provider.inject({ status: 500, times: 2 });
    await createHttpClient(config()).chat.completions.create(chat);
    const [a, b, c] = provider.requests;
    expect(provider.requests.map((r) => r.status)).toEqual([500, 500, 200]);
    // backoff 20 ms then 40 ms, each at least halved by jitter
    expect((b?.startedAt ?? 0) - (a?.startedAt ?? 0)).toBeGreaterThanOrEqual(9);
    expect((c?.startedAt ?? 0) - (b?.startedAt ?? 0)).toBeGreaterThanOrEqual(19);
  });

  it("gives up after maxRetries, naming the status, the provider's message and the attempts", async () => {
    provider.inject({ status: 503, times: Number.POSITIVE_INFINITY, message: "Engine overloaded" });
    const error = await rejection(createHttpClient(config({ maxRetries: 2 })).chat.completions.create(chat));
    expect(provider.requests).toHaveLength(3);
    expect((error as EvalrunError).code).toBe("LLM_REQUEST");
    expect(error.message).toBe(
      `The LLM provider at ${provider.baseUrl} answered 503 Service Unavailable: Engine overloaded (POST /chat/completions, after 3 attempts).`,
    );
  });

  it("does not retry a 400, and says what the provider said", async () => {
    provider.inject({ status: 400, message: "Unrecognized request argument supplied: foo" });
    const error = await rejection(createHttpClient(config()).chat.completions.create(chat));
    expect(provider.requests).toHaveLength(1);
    expect(isEvalrunError(error)).toBe(true);
    expect(error.message).toContain("answered 400 Bad Request: Unrecognized request argument supplied: foo");
    expect(error.message).not.toContain("attempts");
  });

  it("does not retry a 429 that says the account is out of quota, and says so", async () => {
    provider.inject({
      status: 429,
      times: Number.POSITIVE_INFINITY,
      message: "You exceeded your current quota, please check your plan and billing details.",
    });
    const error = await rejection(createHttpClient(config()).chat.completions.create(chat));
    expect(provider.requests).toHaveLength(1);
    expect(error.message).toContain("answered 429 Too Many Requests: You exceeded your current quota");
    expect(error.message).toContain("The account is out of quota: check its plan and billing");
    expect(error.message).not.toContain("Lower EVALRUN_LLM_CONCURRENCY");
  });

  it("says the provider's reason when a 200 answer holds an error instead of choices", async () => {
    provider.inject({
      status: 200,
      message: "Upstream provider error: the content filter rejected this request",
    });
    const error = await rejection(createHttpClient(config()).chat.completions.create(chat));
    expect(provider.requests).toHaveLength(1);
    expect(error.message).toContain(
      "answered 200 with an error: Upstream provider error: the content filter rejected this request (POST /chat/completions).",
    );
  });

  it("fails at once when Retry-After asks for longer than the cap", async () => {
    provider.inject({ status: 429, retryAfter: "3600" });
    const error = await rejection(createHttpClient(config()).chat.completions.create(chat));
    expect(provider.requests).toHaveLength(1);
    expect(error.message).toContain("it asked to retry after 3600 s, longer than evalrun waits (60 s)");
  });

  it("stops waiting to retry as soon as the row's signal aborts", async () => {
    provider.inject({ status: 429, retryAfter: "10" });
    const controller = new AbortController();
    const reason = new Error("row timed out");
    const started = Date.now();
    const pending = createHttpClient(config()).chat.completions.create(chat, { signal: controller.signal });
    await until(() => provider.requests[0]?.status === 429);
    controller.abort(reason);
    expect(await rejection(pending)).toBe(reason);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(provider.requests).toHaveLength(1);
  });

  it("aborts the request in flight when the row's signal aborts (the server sees it go)", async () => {
    provider.inject({ delayMs: 5000 });
    const controller = new AbortController();
    const pending = createHttpClient(config()).chat.completions.create(chat, { signal: controller.signal });
    await until(() => provider.requests.length === 1);
    controller.abort(new Error("stop"));
    expect((await rejection(pending)).message).toBe("stop");
    await until(() => provider.requests[0]?.aborted === true);
  });

  it("retries an attempt that runs past the request timeout", async () => {
    provider.inject({ delayMs: 2000 });
    await createHttpClient(config({ timeoutMs: 150 })).chat.completions.create(chat);
    expect(provider.requests).toHaveLength(2);
    await until(() => provider.requests[0]?.aborted === true);
    provider.inject({ delayMs: 2000, times: 2 });
    const error = await rejection(
      createHttpClient(config({ timeoutMs: 150, maxRetries: 1 })).chat.completions.create(chat),
    );
    expect(error.message).toContain(
      "did not answer within 150 ms (POST /chat/completions, after 2 attempts)",
    );
  });

  it("keeps at most `concurrency` requests in flight per provider", async () => {
    provider.inject({ delayMs: 40, times: Number.POSITIVE_INFINITY });
    const client = createHttpClient(config({ concurrency: 3 }));
    await Promise.all(Array.from({ length: 12 }, () => client.chat.completions.create(chat)));
    expect(provider.requests).toHaveLength(12);
    expect(provider.maxInFlight).toBe(3);
  });

  it("lets a call queued for a slot leave when its signal aborts", async () => {
    provider.inject({ delayMs: 300, times: 1 });
    const client = createHttpClient(config({ concurrency: 1 }));
    const first = client.chat.completions.create(chat);
    const controller = new AbortController();
    const queued = client.chat.completions.create(chat, { signal: controller.signal });
    controller.abort(new Error("gave up"));
    expect((await rejection(queued)).message).toBe("gave up");
    await first;
    expect(provider.requests).toHaveLength(1);
  });

  it("reports a body that is not JSON without retrying", async () => {
    provider.inject({ malformed: true });
    const error = await rejection(createHttpClient(config()).chat.completions.create(chat));
    expect(provider.requests).toHaveLength(1);
    expect((error as EvalrunError).code).toBe("LLM_RESPONSE");
    expect(error.message).toContain(
      "answered 200 with a body that is not JSON (content-type application/json)",
    );
    expect(error.message).toContain("OpenAI-compatible API");
  });

  it("retries connection errors, then names the unreachable URL", async () => {
    const error = await rejection(
      createHttpClient(config({ baseUrl: "http://127.0.0.1:1/v1", maxRetries: 1 })).chat.completions.create(
        chat,
      ),
    );
    expect(error.message).toContain(
      "The LLM provider at http://127.0.0.1:1/v1 could not be reached (ECONNREFUSED)",
    );
    expect(error.message).toContain("after 2 attempts");
    // The next calls to a provider that could not be reached try once (a server down mid-run fails its remaining
    // rows at once, not each after ~11 s of retries); an answer from it clears that.
    const next = await rejection(
      createHttpClient(config({ baseUrl: "http://127.0.0.1:1/v1", maxRetries: 1 })).chat.completions.create(
        chat,
      ),
    );
    expect(next.message).toContain("not retried, as the calls before it could not reach it either");
    expect(next.message).not.toContain("attempts");
  });

  it("never leaks a key echoed in a long or non-JSON body, nor one sent in a header", async () => {
    // A provider that answers 401 with the request's credentials in a long plain-text body: a key crossing the
    // 200-character preview used to survive redaction in part.
    const server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        const sent = `${req.headers.authorization ?? ""} ${req.headers["x-api-key"] ?? ""}`;
        res.writeHead(401, { "content-type": "text/plain" });
        res.end(`${"x".repeat(40)} denied for ${sent} ${"y".repeat(300)}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    try {
      const key = `sk-proj-${"A1b2C3d4".repeat(20)}`;
      const long = await rejection(
        createHttpClient(config({ baseUrl, apiKey: key, maxRetries: 0 })).chat.completions.create(chat),
      );
      expect(long.message).toContain("answered 401 Unauthorized");
      expect(long.message).toContain("[redacted]");
      expect(long.message).not.toContain("A1b2C3d4");
      const inHeader = await rejection(
        createHttpClient(
          config({
            baseUrl,
            headers: { "x-api-key": "HDRSECRET-123", authorization: "Token TOKSECRET-456" },
            maxRetries: 0,
          }),
        ).chat.completions.create(chat),
      );
      expect(inHeader.message).not.toContain("HDRSECRET");
      expect(inHeader.message).not.toContain("TOKSECRET");
    } finally {
      server.close();
    }
  });

  it("never puts the API key in an error, even when the provider echoes it", async () => {
    const guarded = await startProvider({ apiKey: "sk-right" });
    try {
      const secret = "sk-wrong-0123456789abcdef";
      const error = await rejection(
        createHttpClient(config({ baseUrl: `${guarded.baseUrl}`, apiKey: secret })).chat.completions.create(
          chat,
        ),
      );
      expect(guarded.requests[0]?.headers.authorization).toBe(`Bearer ${secret}`);
      expect(error.message).toContain("answered 401 Unauthorized: Incorrect API key provided: [redacted].");
      expect(error.message).toContain("Check the API key");
      expect(JSON.stringify({ ...error, message: error.message, stack: error.stack })).not.toContain(secret);
      // nor in a URL carrying credentials
      const withCreds = await rejection(
        createHttpClient(
          config({ baseUrl: `http://user:${secret}@127.0.0.1:1/v1`, apiKey: secret, maxRetries: 0 }),
        ).chat.completions.create(chat),
      );
      expect(withCreds.message).not.toContain(secret);
      expect(withCreds.message).toContain("http://127.0.0.1:1/v1");
    } finally {
      await guarded.close();
    }
  });
});
