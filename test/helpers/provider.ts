/**
 * A small OpenAI-compatible server for the LLM scorer tests, on 127.0.0.1 at a free port. It answers
 * `POST /v1/chat/completions` (forced tool calls, plain replies, `stream: true` as SSE) and `POST /v1/embeddings`,
 * the same under `/v1/proxy/...`, deterministically:
 *
 * - a judge's choice comes from the rendered prompt: the "positive" choice (C, Y, Yes, Correct, B, else the first)
 *   when the submission's section equals the reference's (or there is nothing to compare), else the "negative" one;
 * - an embedding is a hashed character-trigram vector of the text, so identical texts have cosine 1.
 *
 * It records every request and can misbehave on demand, through `inject()` (same process) or a marker in the
 * request's text (for the CLI, a separate process): `[[fault:429,retry-after=1,times=1]]`, `[[fault:500,times=2]]`,
 * `[[fault:400,message=bad]]`, `[[fault:slow,ms=5000]]`, `[[fault:malformed]]`, `[[fault:no-tool-call]]`,
 * `[[fault:choice,value=Maybe]]`. A marker's `times` counts requests with the same body (so each row's first
 * request fails and its retry succeeds); without `times`, a status fault applies once and the others always.
 */
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, vi } from "vitest";

export interface Fault {
  /** Answer with this status and an OpenAI-style error body. */
  status?: number;
  /** The Retry-After header to send with the status (seconds or an HTTP date). */
  retryAfter?: string;
  /** The error message of the body. */
  message?: string;
  /** Wait this long before answering (the request can be aborted meanwhile). */
  delayMs?: number;
  /** Answer 200 with a body that is not JSON. */
  malformed?: boolean;
  /** Answer in prose, without the forced tool call. */
  noToolCall?: boolean;
  /** Pick this choice, whether or not it is allowed. */
  choice?: string;
  /** How many requests it applies to (default 1; Infinity for all). */
  times?: number;
  /** Only requests to this route. */
  route?: "chat" | "embeddings";
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface RecordedRequest {
  seq: number;
  method: string;
  path: string;
  route: "chat" | "embeddings" | "other";
  headers: http.IncomingHttpHeaders;
  raw: string;
  // biome-ignore lint/suspicious/noExplicitAny: request bodies are whatever clients sent
  body: any;
  /** The prompt (chat) or the input (embeddings) as one string. */
  text: string;
  startedAt: number;
  endedAt?: number;
  status?: number;
  /** The client went away before the answer was complete. */
  aborted: boolean;
  abortedAt?: number;
  fault?: Fault;
  usage?: Usage;
  /** The choice a judge request was answered with. */
  choice?: string;
}

export interface TestProvider {
  /** http://127.0.0.1:<port> */
  url: string;
  /** `${url}/v1` */
  baseUrl: string;
  /** `${url}/v1/proxy`, as a Braintrust-style proxy. */
  proxyBaseUrl: string;
  requests: RecordedRequest[];
  inFlight: number;
  maxInFlight: number;
  /** Queues a fault for the next matching request(s). */
  inject(fault: Fault): void;
  /** Forgets requests, counters and queued faults. */
  reset(): void;
  /** The child environment of a CLI run against this server, with every other LLM setting cleared. */
  env(extra?: Record<string, string | undefined>): Record<string, string | undefined>;
  close(): Promise<void>;
}

/** Every variable the LLM client reads, unset, so that a developer's real key is never used by a test. */
export const CLEAN_LLM_ENV: Record<string, undefined> = {
  OPENAI_API_KEY: undefined,
  OPENAI_BASE_URL: undefined,
  EVALRUN_LLM_BASE_URL: undefined,
  EVALRUN_LLM_API_KEY: undefined,
  EVALRUN_LLM_MODEL: undefined,
  EVALRUN_LLM_EMBEDDING_MODEL: undefined,
  EVALRUN_LLM_CONCURRENCY: undefined,
  EVALRUN_LLM_TIMEOUT_MS: undefined,
  EVALRUN_LLM_MAX_RETRIES: undefined,
};

const OUTPUT_TAGS = ["submission", "response_1", "summary_b", "output"];
const EXPECTED_TAGS = ["reference", "response_2", "summary_a", "expected"];
const PAIRS: Array<[string, string]> = [
  ["C", "D"],
  ["Y", "N"],
  ["Yes", "No"],
  ["Correct", "Incorrect"],
  ["B", "A"],
];
const MARKER = /\[\[fault:([^\]]*)\]\]/;
const DIMENSIONS = 256;

function parseMarker(text: string): { fault: Fault; marker: string } | undefined {
  const match = MARKER.exec(text);
  if (!match?.[1]) return undefined;
  const [kind = "", ...rest] = match[1].split(",").map((s) => s.trim());
  const opts = Object.fromEntries(rest.map((kv) => kv.split("=", 2) as [string, string]));
  const fault: Fault = {};
  if (/^\d{3}$/.test(kind)) {
    fault.status = Number(kind);
    fault.times = opts.times === undefined ? 1 : Number(opts.times);
  } else {
    fault.times = opts.times === undefined ? Number.POSITIVE_INFINITY : Number(opts.times);
    if (kind === "slow") fault.delayMs = Number(opts.ms ?? 5000);
    else if (kind === "malformed") fault.malformed = true;
    else if (kind === "no-tool-call") fault.noToolCall = true;
    else if (kind === "choice") fault.choice = opts.value ?? "";
  }
  if (opts["retry-after"] !== undefined) fault.retryAfter = opts["retry-after"];
  if (opts.message !== undefined) fault.message = opts.message;
  return { fault, marker: match[0] };
}

const stripMarkers = (text: string) => text.replace(new RegExp(MARKER.source, "g"), "").trim();

function section(text: string, tags: string[]): string | undefined {
  for (const tag of tags) {
    const match = new RegExp(`<${tag}>\\n?([\\s\\S]*?)\\n?</${tag}>`).exec(text);
    if (match) return stripMarkers(match[1] ?? "");
  }
  return undefined;
}

function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content))
    return content.map((p) => (typeof p?.text === "string" ? (p.text as string) : "")).join("\n");
  return "";
}

const tokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));

/** A deterministic embedding: counts of hashed character trigrams, normalised. */
/** The cosine similarity of two vectors, as EmbeddingSimilarity computes it, to check its scores against. */
export function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] ?? 0) * (b[i] ?? 0);
    na += (a[i] ?? 0) ** 2;
    nb += (b[i] ?? 0) ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

export function trigramVector(text: string): number[] {
  const vector = new Array<number>(DIMENSIONS).fill(0);
  const padded = `  ${text.toLowerCase()}  `;
  for (let i = 0; i + 3 <= padded.length; i++) {
    let hash = 2166136261;
    for (let j = i; j < i + 3; j++) hash = Math.imul(hash ^ padded.charCodeAt(j), 16777619);
    const index = (hash >>> 0) % DIMENSIONS;
    vector[index] = (vector[index] as number) + 1;
  }
  const norm = Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0));
  return norm === 0 ? vector : vector.map((v) => v / norm);
}

const reasons: Record<number, string> = {
  400: "Invalid request.",
  401: "Incorrect API key provided.",
  404: "The model does not exist.",
  429: "Rate limit reached for requests.",
  500: "The server had an error while processing your request.",
  503: "The server is overloaded.",
};

export async function startProvider(options: { apiKey?: string } = {}): Promise<TestProvider> {
  let queue: Fault[] = [];
  let seen = new Map<string, number>();
  let seq = 0;
  const provider = {
    requests: [] as RecordedRequest[],
    inFlight: 0,
    maxInFlight: 0,
  };

  function takeFault(route: RecordedRequest["route"], raw: string, text: string): Fault | undefined {
    const index = queue.findIndex((f) => f.route === undefined || f.route === route);
    if (index >= 0) {
      const fault = queue[index] as Fault;
      const left = (fault.times ?? 1) - 1;
      if (left <= 0) queue.splice(index, 1);
      else queue[index] = { ...fault, times: left };
      return fault;
    }
    const parsed = parseMarker(text);
    if (!parsed) return undefined;
    const key = createHash("sha1").update(raw).digest("hex");
    const count = (seen.get(key) ?? 0) + 1;
    seen.set(key, count);
    return count <= (parsed.fault.times ?? 1) ? parsed.fault : undefined;
  }

  function sendJson(res: http.ServerResponse, rec: RecordedRequest, status: number, body: unknown): void {
    rec.status = status;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }

  function error(res: http.ServerResponse, rec: RecordedRequest, status: number, message: string): void {
    sendJson(res, rec, status, { error: { message, type: "test_error", code: null } });
  }

  function answerChat(res: http.ServerResponse, rec: RecordedRequest, fault: Fault | undefined): void {
    const body = rec.body;
    const tool = Array.isArray(body.tools)
      ? body.tools.find((t: { type?: string }) => t?.type === "function")
      : undefined;
    const properties = tool?.function?.parameters?.properties ?? {};
    const choices: string[] | undefined = properties.choice?.enum;
    let content: string | null = null;
    let call: { name: string; arguments: string } | undefined;
    if (choices) {
      const output = section(rec.text, OUTPUT_TAGS);
      const expected = section(rec.text, EXPECTED_TAGS);
      const same = output === undefined || expected === undefined ? undefined : output === expected;
      const pair = PAIRS.find(([p, n]) => choices.includes(p) && choices.includes(n)) ?? [
        choices[0] as string,
        choices.at(-1) as string,
      ];
      const choice = fault?.choice ?? (same === false ? pair[1] : pair[0]);
      const reasoning =
        same === undefined
          ? "There is nothing to compare the submission with."
          : same
            ? "The submission matches the reference."
            : "The submission differs from the reference.";
      rec.choice = choice;
      if (fault?.noToolCall) content = `I think the answer is ${choice}. ${reasoning}`;
      else {
        const args = "reasoning" in properties ? { reasoning, choice } : { choice };
        call = {
          name: body.tool_choice?.function?.name ?? tool.function.name,
          arguments: JSON.stringify(args),
        };
      }
    } else {
      const last = Array.isArray(body.messages) ? body.messages.at(-1) : undefined;
      content = `echo: ${contentText(last?.content)}`;
    }
    const completion = content ?? call?.arguments ?? "";
    const usage: Usage = {
      prompt_tokens: tokens(rec.text),
      completion_tokens: tokens(completion),
      total_tokens: tokens(rec.text) + tokens(completion),
    };
    rec.usage = usage;
    const id = `chatcmpl-${rec.seq}`;
    const created = Math.floor(rec.startedAt / 1000);
    const model = typeof body.model === "string" ? body.model : "test-model";
    const finish = call ? "tool_calls" : "stop";
    if (body.stream === true) {
      rec.status = 200;
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      const chunk = (delta: unknown, finishReason: string | null = null) =>
        res.write(
          `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, finish_reason: finishReason }] })}\n\n`,
        );
      chunk({ role: "assistant", content: "" });
      const pieces = (text: string) => text.match(/[\s\S]{1,8}/g) ?? [];
      if (call) {
        chunk({
          tool_calls: [
            {
              index: 0,
              id: `call_${rec.seq}`,
              type: "function",
              function: { name: call.name, arguments: "" },
            },
          ],
        });
        for (const piece of pieces(call.arguments))
          chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] });
      } else {
        for (const piece of pieces(content ?? "")) chunk({ content: piece });
      }
      chunk({}, finish);
      if (body.stream_options?.include_usage) {
        res.write(
          `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [], usage })}\n\n`,
        );
      }
      res.end("data: [DONE]\n\n");
      return;
    }
    sendJson(res, rec, 200, {
      id,
      object: "chat.completion",
      created,
      model,
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content,
            ...(call ? { tool_calls: [{ id: `call_${rec.seq}`, type: "function", function: call }] } : {}),
          },
          finish_reason: finish,
        },
      ],
      usage,
    });
  }

  function answerEmbeddings(res: http.ServerResponse, rec: RecordedRequest): void {
    const input: unknown = rec.body.input;
    const texts = typeof input === "string" ? [input] : Array.isArray(input) ? input : undefined;
    if (!texts || texts.some((t) => typeof t !== "string" || t === "")) {
      error(res, rec, 400, "'input' must be a non-empty string or an array of them.");
      return;
    }
    const prompt = texts.reduce((sum: number, t: string) => sum + tokens(t), 0);
    rec.usage = { prompt_tokens: prompt, completion_tokens: 0, total_tokens: prompt };
    sendJson(res, rec, 200, {
      object: "list",
      model: rec.body.model ?? "test-embedding",
      data: texts.map((t: string, index: number) => ({
        object: "embedding",
        index,
        embedding: trigramVector(t),
      })),
      usage: { prompt_tokens: prompt, total_tokens: prompt },
    });
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const path = (req.url ?? "/").split("?")[0] as string;
      const route = /^\/v1(\/proxy)?\/chat\/completions$/.test(path)
        ? "chat"
        : /^\/v1(\/proxy)?\/embeddings$/.test(path)
          ? "embeddings"
          : "other";
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      const b = (body ?? {}) as { messages?: Array<{ content?: unknown }>; input?: unknown };
      const text =
        route === "chat"
          ? (Array.isArray(b.messages) ? b.messages : []).map((m) => contentText(m?.content)).join("\n")
          : route === "embeddings"
            ? ([] as unknown[]).concat(b.input ?? []).join("\n")
            : "";
      const rec: RecordedRequest = {
        seq: ++seq,
        method: req.method ?? "",
        path,
        route,
        headers: req.headers,
        raw,
        body,
        text,
        startedAt: Date.now(),
        aborted: false,
      };
      provider.requests.push(rec);
      provider.inFlight++;
      provider.maxInFlight = Math.max(provider.maxInFlight, provider.inFlight);
      let timer: NodeJS.Timeout | undefined;
      res.on("close", () => {
        provider.inFlight--;
        rec.endedAt = Date.now();
        clearTimeout(timer);
        if (!res.writableFinished) {
          rec.aborted = true;
          rec.abortedAt = rec.endedAt;
        }
      });
      if (route === "other" || req.method !== "POST") {
        error(res, rec, 404, `No route for ${req.method} ${path}.`);
        return;
      }
      if (body === undefined) {
        error(res, rec, 400, "The request body is not JSON.");
        return;
      }
      if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
        // Echoes the key it got, as some providers do, so tests can check that clients never repeat it.
        const given = (req.headers.authorization ?? "").replace(/^Bearer /, "");
        error(res, rec, 401, `Incorrect API key provided: ${given}.`);
        return;
      }
      const fault = takeFault(route, raw, text);
      if (fault) rec.fault = fault;
      const respond = () => {
        if (res.destroyed) return;
        if (fault?.status !== undefined) {
          rec.status = fault.status;
          const headers: Record<string, string> = { "content-type": "application/json" };
          if (fault.retryAfter !== undefined) headers["retry-after"] = fault.retryAfter;
          res.writeHead(fault.status, headers);
          res.end(
            JSON.stringify({
              error: { message: fault.message ?? reasons[fault.status] ?? "Error.", type: "test_error" },
            }),
          );
        } else if (fault?.malformed) {
          rec.status = 200;
          res.writeHead(200, { "content-type": "application/json" });
          res.end('{"choices": [ this is not JSON');
        } else if (route === "chat") {
          answerChat(res, rec, fault);
        } else {
          answerEmbeddings(res, rec);
        }
      };
      if (fault?.delayMs) timer = setTimeout(respond, fault.delayMs);
      else respond();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return Object.assign(provider, {
    url,
    baseUrl: `${url}/v1`,
    proxyBaseUrl: `${url}/v1/proxy`,
    inject(fault: Fault) {
      queue.push(fault);
    },
    reset() {
      provider.requests.length = 0;
      provider.maxInFlight = provider.inFlight;
      queue = [];
      seen = new Map();
    },
    env(extra: Record<string, string | undefined> = {}) {
      return { ...CLEAN_LLM_ENV, EVALRUN_LLM_BASE_URL: `${url}/v1`, ...extra };
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

/** Polls until `check` holds (for server-side effects that follow a client's exit). */
export async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * The provider of a test file: started before its tests, reset before each, closed after all. The returned
 * object forwards to it, so tests use it like the provider itself.
 */
/** Points the LLM scorers of this test process at `provider`, with no real key and no retries. */
export function stubProviderEnv(provider: TestProvider): void {
  for (const name of Object.keys(CLEAN_LLM_ENV)) vi.stubEnv(name, "");
  vi.stubEnv("EVALRUN_LLM_BASE_URL", provider.baseUrl);
  vi.stubEnv("EVALRUN_LLM_MAX_RETRIES", "0");
}

export function useProvider(options: { apiKey?: string } = {}): TestProvider {
  let started: TestProvider | undefined;
  beforeAll(async () => {
    started = await startProvider(options);
  });
  afterAll(() => started?.close());
  beforeEach(() => started?.reset());
  return new Proxy({} as TestProvider, {
    get(_, name) {
      if (!started) throw new Error("the test provider is used before it started (outside a test)");
      const value = Reflect.get(started, name, started);
      return typeof value === "function" ? value.bind(started) : value;
    },
  });
}
