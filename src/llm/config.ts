import { MAX_TIMER_MS } from "../define/errors.js";
import { configError, normalizeBaseUrl } from "./checks.js";
import { getSettings } from "./settings.js";
import type { LLMClient } from "./types.js";

export const DEFAULT_CHAT_MODEL = "gpt-4o";
export const DEFAULT_EMBEDDING_MODEL = "text-embedding-ada-002";
export const OPENAI_BASE_URL = "https://api.openai.com/v1";
export const DEFAULT_CONCURRENCY = 16;
export const DEFAULT_TIMEOUT_MS = 120_000;
export const DEFAULT_MAX_RETRIES = 4;
/** A provider asking to wait longer than this is out of quota rather than briefly throttled: fail, do not wait. */
export const RETRY_AFTER_CAP_MS = 60_000;

type Env = Record<string, string | undefined>;

/** Per-scorer provider overrides (autoevals' `openAi*` spellings too, so ported `.partial()` calls keep working). */
export interface ProviderOptions {
  client?: LLMClient | undefined;
  baseUrl?: string | undefined;
  apiKey?: string | undefined;
  openAiBaseUrl?: string | undefined;
  openAiApiKey?: string | undefined;
  /** Headers for every request of this scorer (a gateway's key), over init()'s. */
  openAiDefaultHeaders?: Record<string, string> | undefined;
  /** Sent as `OpenAI-Organization`. */
  openAiOrganizationId?: string | undefined;
}

/** Everything the built-in HTTP client needs for one provider. */
export interface HttpConfig {
  /** Without a trailing slash; requests go to `${baseUrl}/chat/completions` and `${baseUrl}/embeddings`. */
  baseUrl: string;
  apiKey: string | undefined;
  headers: Record<string, string>;
  concurrency: number;
  timeoutMs: number;
  maxRetries: number;
  /** First backoff step; each retry doubles it, up to retryMaxMs, and jitter takes 0-50% off. */
  retryBaseMs: number;
  retryMaxMs: number;
  retryAfterCapMs: number;
}

export type Provider = { kind: "client"; client: LLMClient } | { kind: "http"; config: HttpConfig };

export const NO_PROVIDER_MESSAGE =
  "No LLM provider is configured for the LLM scorers. Set OPENAI_API_KEY to use OpenAI (with OPENAI_BASE_URL for " +
  "another OpenAI-compatible service), or EVALRUN_LLM_BASE_URL (plus EVALRUN_LLM_API_KEY if the server needs a key) " +
  "for any OpenAI-compatible server such as a proxy, vLLM or Ollama, in the environment or the project's .env file; " +
  "or pass a client with init({ client }) in the eval file.";

const NO_PROVIDER_HINT =
  "e.g. EVALRUN_LLM_BASE_URL=http://localhost:11434/v1 for a local Ollama, or OPENAI_API_KEY=sk-... for OpenAI.";

/** An env value, with an empty string meaning unset (as `FOO= cmd` is how a shell clears a variable). */
function envValue(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

function envInteger(env: Env, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = envValue(env, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw configError(
      `${name} must be an integer of at least ${min}${max < Number.MAX_SAFE_INTEGER ? ` and at most ${max} (Node's longest timer)` : ""}, not ${raw.length <= 12 ? JSON.stringify(raw) : `a value of ${raw.length} characters (not shown: a key pasted into the wrong variable would be)`}.`,
      `Fix or unset ${name}.`,
    );
  }
  return value;
}

/**
 * Which client a scorer call uses. Order: the call's own options, then init(), then EVALRUN_LLM_* (which win over
 * OPENAI_*), then OpenAI's URL when only a key is known. A base URL with no key is a keyless local server.
 */
export function resolveProvider(options: ProviderOptions = {}, env: Env = process.env): Provider {
  const settings = getSettings();
  const client = options.client ?? settings.client;
  if (client !== undefined) return { kind: "client", client };

  const base: [string, string] | undefined =
    options.baseUrl !== undefined
      ? [options.baseUrl, "The scorer's baseUrl option"]
      : options.openAiBaseUrl !== undefined
        ? [options.openAiBaseUrl, "The scorer's openAiBaseUrl option"]
        : settings.baseUrl !== undefined
          ? [settings.baseUrl, "init({ baseUrl })"]
          : envValue(env, "EVALRUN_LLM_BASE_URL") !== undefined
            ? [envValue(env, "EVALRUN_LLM_BASE_URL") as string, "EVALRUN_LLM_BASE_URL"]
            : envValue(env, "OPENAI_BASE_URL") !== undefined
              ? [envValue(env, "OPENAI_BASE_URL") as string, "OPENAI_BASE_URL"]
              : undefined;
  // OPENAI_API_KEY goes only to OpenAI's URL or OPENAI_BASE_URL (or autoevals' openAiBaseUrl option, which
  // autoevals pairs with it): a server named by EVALRUN_LLM_BASE_URL, init({ baseUrl }) or a baseUrl option is
  // keyless unless given a key of its own, and must not be sent the user's OpenAI key.
  const openAiKeyFits =
    base === undefined || base[1] === "OPENAI_BASE_URL" || base[1] === "The scorer's openAiBaseUrl option";
  // The same for evalrun's own keys: EVALRUN_LLM_API_KEY goes where EVALRUN_LLM_BASE_URL or init({ baseUrl }) point
  // (or OpenAI's URL when neither is set), init({ apiKey }) likewise; a server a scorer names gets the scorer's key.
  const scorerBase =
    base?.[1] === "The scorer's baseUrl option" || base?.[1] === "The scorer's openAiBaseUrl option";
  const evalrunKeyFits =
    base === undefined || base[1] === "EVALRUN_LLM_BASE_URL" || base[1] === "init({ baseUrl })";
  const apiKey =
    options.apiKey ??
    options.openAiApiKey ??
    (scorerBase ? undefined : settings.apiKey) ??
    (evalrunKeyFits ? envValue(env, "EVALRUN_LLM_API_KEY") : undefined) ??
    (openAiKeyFits ? envValue(env, "OPENAI_API_KEY") : undefined);
  if (base === undefined && apiKey === undefined) throw configError(NO_PROVIDER_MESSAGE, NO_PROVIDER_HINT);
  const baseUrl = base === undefined ? OPENAI_BASE_URL : normalizeBaseUrl(base[0], base[1]);
  // OpenAI's own variables, as its SDK reads them, for the same servers as OPENAI_API_KEY.
  const organization =
    options.openAiOrganizationId ?? (openAiKeyFits ? envValue(env, "OPENAI_ORG_ID") : undefined);
  const project = openAiKeyFits ? envValue(env, "OPENAI_PROJECT_ID") : undefined;
  // init()'s headers may hold the key of init()'s provider: a server a scorer names gets the scorer's own only.
  const headers: Record<string, string> = {
    ...(scorerBase ? {} : settings.headers),
    ...(organization === undefined ? {} : { "OpenAI-Organization": organization }),
    ...(project === undefined ? {} : { "OpenAI-Project": project }),
    ...checkHeaders(options.openAiDefaultHeaders),
  };

  return {
    kind: "http",
    config: {
      baseUrl,
      apiKey,
      headers,
      concurrency:
        settings.concurrency ?? envInteger(env, "EVALRUN_LLM_CONCURRENCY", 1) ?? DEFAULT_CONCURRENCY,
      timeoutMs:
        settings.timeoutMs ??
        envInteger(env, "EVALRUN_LLM_TIMEOUT_MS", 1, MAX_TIMER_MS) ??
        DEFAULT_TIMEOUT_MS,
      maxRetries: settings.maxRetries ?? envInteger(env, "EVALRUN_LLM_MAX_RETRIES", 0) ?? DEFAULT_MAX_RETRIES,
      retryBaseMs: 1000,
      retryMaxMs: 30_000,
      retryAfterCapMs: RETRY_AFTER_CAP_MS,
    },
  };
}

function checkHeaders(headers: unknown): Record<string, string> {
  if (headers === undefined) return {};
  const entries = typeof headers === "object" && headers !== null ? Object.entries(headers) : undefined;
  if (entries === undefined || entries.some(([, value]) => typeof value !== "string")) {
    throw configError(
      "The scorer's openAiDefaultHeaders option must be an object of header names to strings.",
      'e.g. openAiDefaultHeaders: { "x-gateway-key": process.env.GATEWAY_KEY ?? "" }',
    );
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/** The chat model: the scorer's own, then init(), then EVALRUN_LLM_MODEL, then the default. */
export function chatModel(explicit: string | undefined, env: Env = process.env): string {
  const settings = getSettings();
  const fromInit =
    settings.model ??
    (typeof settings.defaultModel === "string" ? settings.defaultModel : settings.defaultModel?.completion);
  return explicit ?? fromInit ?? envValue(env, "EVALRUN_LLM_MODEL") ?? DEFAULT_CHAT_MODEL;
}

/**
 * OpenAI's reasoning models (o1, o3, o4-mini, gpt-5...; also behind a router's `openai/` prefix) refuse
 * `max_tokens` and any temperature but 1: judges send neither to them unless asked.
 */
export function isReasoningModel(model: string): boolean {
  return /^(?:[\w.-]+\/)?(?:o\d|gpt-5)/i.test(model);
}

/** The embedding model: the scorer's own, then init(), then EVALRUN_LLM_EMBEDDING_MODEL, then the default. */
export function embeddingModel(explicit: string | undefined, env: Env = process.env): string {
  const settings = getSettings();
  const fromInit =
    settings.embeddingModel ??
    (typeof settings.defaultModel === "object" ? settings.defaultModel.embedding : undefined);
  return explicit ?? fromInit ?? envValue(env, "EVALRUN_LLM_EMBEDDING_MODEL") ?? DEFAULT_EMBEDDING_MODEL;
}
