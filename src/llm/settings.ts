import type { LLMClient } from "./types.js";

/** What `init()` sets for every LLM scorer of this thread (each worker thread runs the eval file's `init` too). */
export interface InitOptions {
  /** An OpenAI-SDK-shaped client to call instead of the built-in one (no evalrun retries or cap then). */
  client?: LLMClient | undefined;
  /** Default chat model of the judges. */
  model?: string | undefined;
  /** autoevals' spelling: a chat model, or the chat and embedding models. */
  defaultModel?: string | { completion?: string | undefined; embedding?: string | undefined } | undefined;
  /** Default embedding model of EmbeddingSimilarity. */
  embeddingModel?: string | undefined;
  /** An OpenAI-compatible API's base URL, e.g. `http://localhost:11434/v1`. */
  baseUrl?: string | undefined;
  apiKey?: string | undefined;
  /** Extra headers on every request (e.g. a proxy's options). */
  headers?: Record<string, string> | undefined;
  /** Requests in flight at once per base URL in this thread (default 16). */
  concurrency?: number | undefined;
  /** Time limit of one HTTP attempt in ms (default 120000). */
  timeoutMs?: number | undefined;
  /** Retries after a 429, a 5xx or a connection error (default 4). */
  maxRetries?: number | undefined;
}

// On globalThis, as the usage map: an eval file may reach a second copy of evalrun, and `init` in one copy must
// configure the scorers of the other.
const KEY = Symbol.for("evalrun.llm.settings.v1");

export function setSettings(options: InitOptions): void {
  (globalThis as { [KEY]?: InitOptions })[KEY] = { ...options };
}

export function getSettings(): InitOptions {
  return (globalThis as { [KEY]?: InitOptions })[KEY] ?? {};
}
