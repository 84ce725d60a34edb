import { afterEach, describe, expect, it, vi } from "vitest";
import { type EvalrunError, isEvalrunError } from "../../src/define/errors.js";
import {
  chatModel,
  embeddingModel,
  NO_PROVIDER_MESSAGE,
  type Provider,
  resolveProvider,
} from "../../src/llm/config.js";
import { init } from "../../src/scorers/llm/init.js";
import { withoutSecrets } from "../../src/util/secrets.js";

afterEach(() => init());

const http = (provider: Provider) => {
  if (provider.kind !== "http") throw new Error("expected the HTTP client");
  return provider.config;
};

function thrown(fn: () => unknown): EvalrunError {
  try {
    fn();
  } catch (error) {
    if (isEvalrunError(error)) return error;
    throw error;
  }
  throw new Error("did not throw");
}

describe("LLM provider configuration", () => {
  it("uses OpenAI when only OPENAI_API_KEY is set", () => {
    const config = http(resolveProvider({}, { OPENAI_API_KEY: "sk-a" }));
    expect(config.baseUrl).toBe("https://api.openai.com/v1");
    expect(config.apiKey).toBe("sk-a");
    expect(config).toMatchObject({ concurrency: 16, timeoutMs: 120_000, maxRetries: 4 });
  });

  it("lets EVALRUN_LLM_* win over OPENAI_*, and a base URL need no key", () => {
    const env = {
      OPENAI_API_KEY: "sk-openai",
      OPENAI_BASE_URL: "https://openai.example/v1",
      EVALRUN_LLM_BASE_URL: "http://localhost:8000/v1/",
      EVALRUN_LLM_API_KEY: "sk-evalrun",
    };
    expect(http(resolveProvider({}, env))).toMatchObject({
      baseUrl: "http://localhost:8000/v1",
      apiKey: "sk-evalrun",
    });
    // A keyless local server.
    expect(
      http(resolveProvider({}, { EVALRUN_LLM_BASE_URL: "http://localhost:11434/v1" })).apiKey,
    ).toBeUndefined();
    expect(http(resolveProvider({}, { OPENAI_BASE_URL: "http://localhost:11434/v1" })).baseUrl).toBe(
      "http://localhost:11434/v1",
    );
    // The OpenAI key goes to OpenAI's URL and OPENAI_BASE_URL only, never to a server named otherwise.
    expect(
      http(resolveProvider({}, { EVALRUN_LLM_BASE_URL: "http://proxy/v1/proxy", OPENAI_API_KEY: "sk-o" }))
        .apiKey,
    ).toBeUndefined();
    expect(
      http(resolveProvider({ baseUrl: "http://other/v1" }, { OPENAI_API_KEY: "sk-o" })).apiKey,
    ).toBeUndefined();
    expect(
      http(resolveProvider({}, { OPENAI_BASE_URL: "http://proxy/v1", OPENAI_API_KEY: "sk-o" })).apiKey,
    ).toBe("sk-o");
    expect(
      http(resolveProvider({ openAiBaseUrl: "http://proxy/v1" }, { OPENAI_API_KEY: "sk-o" })).apiKey,
    ).toBe("sk-o");
    expect(http(resolveProvider({}, { OPENAI_API_KEY: "sk-o" }))).toMatchObject({
      baseUrl: "https://api.openai.com/v1",
      apiKey: "sk-o",
    });
    // Empty values count as unset.
    expect(() => resolveProvider({}, { OPENAI_API_KEY: "", EVALRUN_LLM_BASE_URL: " " })).toThrow(
      NO_PROVIDER_MESSAGE,
    );
  });

  it("ranks a scorer's options over init() over the environment", () => {
    const env = {
      EVALRUN_LLM_BASE_URL: "http://env/v1",
      EVALRUN_LLM_CONCURRENCY: "4",
      EVALRUN_LLM_MAX_RETRIES: "0",
    };
    expect(http(resolveProvider({}, env))).toMatchObject({
      baseUrl: "http://env/v1",
      concurrency: 4,
      maxRetries: 0,
    });
    init({ baseUrl: "http://init/v1", concurrency: 2, apiKey: "sk-init", timeoutMs: 50 });
    expect(http(resolveProvider({}, env))).toMatchObject({
      baseUrl: "http://init/v1",
      apiKey: "sk-init",
      concurrency: 2,
      timeoutMs: 50,
    });
    expect(http(resolveProvider({ baseUrl: "http://own/v1", apiKey: "sk-own" }, env))).toMatchObject({
      baseUrl: "http://own/v1",
      apiKey: "sk-own",
    });
    // A server a scorer names gets the scorer's key or none: not init's, nor EVALRUN_LLM_API_KEY, which are the
    // configured provider's.
    expect(http(resolveProvider({ baseUrl: "http://own/v1" }, env)).apiKey).toBeUndefined();
    // init()'s credentials are taken out of every recorded error; its other headers are no secret.
    init({ headers: { "Content-Type": "application/json", "x-api-key": "gw-secret-0123456789" } });
    expect(withoutSecrets("sent application/json with gw-secret-0123456789")).toBe(
      "sent application/json with [redacted]",
    );
    // Nor init()'s headers, which may hold that provider's key; its own headers it gets.
    init({ baseUrl: "http://init/v1", headers: { "x-api-key": "gw-key-0123456789" } });
    expect(http(resolveProvider({}, env)).headers).toEqual({ "x-api-key": "gw-key-0123456789" });
    expect(
      http(resolveProvider({ baseUrl: "http://own/v1", openAiDefaultHeaders: { "x-own": "1" } }, env))
        .headers,
    ).toEqual({ "x-own": "1" });
    init();
    const keyed = { ...env, EVALRUN_LLM_API_KEY: "sk-evalrun" };
    expect(http(resolveProvider({}, keyed)).apiKey).toBe("sk-evalrun");
    expect(http(resolveProvider({ baseUrl: "http://other/v1" }, keyed)).apiKey).toBeUndefined();
    // init({ baseUrl }) names the configured provider: the environment's key goes with it.
    init({ baseUrl: "http://init/v1" });
    expect(http(resolveProvider({}, keyed)).apiKey).toBe("sk-evalrun");
    init({ baseUrl: "http://init/v1", concurrency: 2, apiKey: "sk-init", timeoutMs: 50 });
    expect(
      http(resolveProvider({ openAiBaseUrl: "http://ae/v1", openAiApiKey: "sk-ae" }, env)),
    ).toMatchObject({
      baseUrl: "http://ae/v1",
      apiKey: "sk-ae",
    });
    const client = {
      chat: { completions: { create: async () => ({}) } },
      embeddings: { create: async () => ({}) },
    };
    init({ client });
    expect(resolveProvider({}, {})).toEqual({ kind: "client", client });
  });

  it("sends autoevals' header options, and OpenAI's organization and project to the servers its key goes to", () => {
    init({ headers: { "x-trace": "t", "x-gateway-key": "from-init" } });
    const scorer = {
      openAiDefaultHeaders: { "x-gateway-key": "gk-1" },
      openAiOrganizationId: "org-opt",
    };
    const openAi = { OPENAI_API_KEY: "sk-a", OPENAI_ORG_ID: "org-env", OPENAI_PROJECT_ID: "proj-env" };
    expect(http(resolveProvider(scorer, openAi)).headers).toEqual({
      "x-trace": "t",
      "x-gateway-key": "gk-1",
      "OpenAI-Organization": "org-opt",
      "OpenAI-Project": "proj-env",
    });
    expect(http(resolveProvider({}, openAi)).headers).toMatchObject({ "OpenAI-Organization": "org-env" });
    // A local server named by EVALRUN_LLM_BASE_URL is not OpenAI: it gets neither, as it gets no OPENAI_API_KEY.
    const local = http(
      resolveProvider({}, { ...openAi, EVALRUN_LLM_BASE_URL: "http://127.0.0.1:9/v1" }),
    ).headers;
    expect(local).toEqual({ "x-trace": "t", "x-gateway-key": "from-init" });
    expect(
      thrown(() => resolveProvider({ openAiDefaultHeaders: { a: 1 as never } }, openAi)).message,
    ).toContain("openAiDefaultHeaders option must be an object of header names to strings");
  });

  it("explains, in one message that names the variables, that no provider is configured", () => {
    const error = thrown(() => resolveProvider({}, {}));
    expect(error.code).toBe("LLM_CONFIG");
    expect(error.message).toBe(NO_PROVIDER_MESSAGE);
    for (const name of [
      "OPENAI_API_KEY",
      "OPENAI_BASE_URL",
      "EVALRUN_LLM_BASE_URL",
      "EVALRUN_LLM_API_KEY",
      "init({ client })",
    ])
      expect(error.message).toContain(name);
    expect(thrown(() => resolveProvider({}, {})).message).toBe(error.message);
  });

  it("rejects unusable values with the variable's name", () => {
    expect(thrown(() => resolveProvider({}, { EVALRUN_LLM_BASE_URL: "localhost:8000" })).message).toMatch(
      /EVALRUN_LLM_BASE_URL must be an http:\/\/ or https:\/\/ URL/,
    );
    expect(thrown(() => resolveProvider({}, { EVALRUN_LLM_BASE_URL: "not a url" })).message).toContain(
      "EVALRUN_LLM_BASE_URL is not a URL (its value, 9 characters, is not shown in case it holds a secret).",
    );
    // A header line or an id:secret key pasted there parses as a URL of a made-up scheme: only that is quoted.
    const header = thrown(() =>
      resolveProvider({}, { EVALRUN_LLM_BASE_URL: "Authorization: Bearer sk-HDR-0123456789" }),
    );
    expect(header.message).toContain('its value starts "authorization:" (the rest is not shown');
    expect(`${header.message} ${header.hint}`).not.toContain("HDR");
    // A key in the URL's variable (the two swapped), or a password in a URL that does not parse, is not printed.
    const swapped = thrown(() => resolveProvider({}, { OPENAI_BASE_URL: "sk-SWAPPED-abcdef123456" }));
    expect(swapped.message).toContain("it looks like an API key");
    expect(`${swapped.message} ${swapped.hint}`).not.toContain("SWAPPED");
    const badPort = thrown(() =>
      resolveProvider({}, { EVALRUN_LLM_BASE_URL: "http://u:pw-SECRET9@127.0.0.1:99999/v1" }),
    );
    expect(`${badPort.message} ${badPort.hint}`).not.toContain("SECRET9");
    expect(
      thrown(() => resolveProvider({}, { OPENAI_API_KEY: "k", EVALRUN_LLM_CONCURRENCY: "lots" })).message,
    ).toBe('EVALRUN_LLM_CONCURRENCY must be an integer of at least 1, not "lots".');
    // A key pasted into a number's variable is not quoted (it would be, in every row's stored error).
    const pasted = thrown(() =>
      resolveProvider({}, { OPENAI_API_KEY: "k", EVALRUN_LLM_MAX_RETRIES: "sk-PASTED-abcdef0123456789" }),
    );
    expect(pasted.message).toContain("not a value of 26 characters (not shown");
    expect(pasted.message).not.toContain("PASTED");
    expect(() => init({ concurrency: 0 })).toThrow(
      "init({ concurrency }) must be an integer of at least 1, not 0.",
    );
    expect(() => init({ baseUrl: "ftp://x" })).toThrow(/init\(\{ baseUrl \}\) must be an http/);
    expect(() => init({ client: {} as never })).toThrow(/chat\.completions\.create/);
  });

  it("says an init() option it does not take, with the one likely meant (a typo would change the model paid for)", () => {
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      init({ defualtModel: "gpt-4o-mini", model: "m" } as never);
    } finally {
      spy.mockRestore();
    }
    expect(written.join("")).toContain(
      'evalrun: init() does not take "defualtModel", so it is ignored. Did you mean "defaultModel"?',
    );
  });

  it("picks the models: explicit, then init (either spelling), then env, then the defaults", () => {
    expect(chatModel(undefined, {})).toBe("gpt-4o");
    expect(embeddingModel(undefined, {})).toBe("text-embedding-ada-002");
    const env = { EVALRUN_LLM_MODEL: "env-chat", EVALRUN_LLM_EMBEDDING_MODEL: "env-embed" };
    expect(chatModel(undefined, env)).toBe("env-chat");
    expect(embeddingModel(undefined, env)).toBe("env-embed");
    init({ defaultModel: "init-chat" });
    expect(chatModel(undefined, env)).toBe("init-chat");
    expect(embeddingModel(undefined, env)).toBe("env-embed");
    init({ defaultModel: { completion: "c", embedding: "e" } });
    expect([chatModel(undefined, env), embeddingModel(undefined, env)]).toEqual(["c", "e"]);
    init({ model: "m", embeddingModel: "em" });
    expect([chatModel(undefined, env), embeddingModel(undefined, env)]).toEqual(["m", "em"]);
    expect(chatModel("own", env)).toBe("own");
  });
});
