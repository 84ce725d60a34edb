/**
 * The slice of the OpenAI API the scorers use, typed loosely: responses come from any OpenAI-compatible server
 * (or an injected SDK client) and are checked field by field where they are read.
 */
import type { ProviderUsage } from "../define/usage.js";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface ToolDefinition {
  type: "function";
  function: { name: string; description?: string; parameters: Record<string, unknown> };
}

export interface ChatCompletionParams {
  model: string;
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  tool_choice?: { type: "function"; function: { name: string } };
  temperature?: number;
  max_tokens?: number;
  /** What OpenAI's reasoning models (o-series, gpt-5) take instead of max_tokens; it counts their reasoning too. */
  max_completion_tokens?: number;
  reasoning_effort?: string;
}

export interface ToolCall {
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: unknown };
}

export interface ChatCompletion {
  choices?: Array<{
    message?: { role?: string; content?: unknown; tool_calls?: ToolCall[] | null };
    finish_reason?: string | null;
  }>;
  usage?: ProviderUsage;
}

export interface EmbeddingParams {
  model: string;
  input: string;
}

export interface EmbeddingResponse {
  data?: Array<{ embedding?: unknown }>;
  usage?: ProviderUsage;
}

/** What an OpenAI SDK's methods take as their second argument; only the signal is used. */
export interface RequestOptions {
  signal?: AbortSignal | undefined;
}

/**
 * An OpenAI-SDK-shaped client, as autoevals' `init({ client })` accepts: `new OpenAI(...)` fits, and so does the
 * built-in HTTP client. Methods may return a thenable (the SDK's APIPromise).
 */
export interface LLMClient {
  chat: {
    completions: {
      // biome-ignore lint/suspicious/noExplicitAny: SDK clients declare narrower parameter and return types
      create(params: any, options?: any): PromiseLike<any>;
    };
  };
  embeddings: {
    // biome-ignore lint/suspicious/noExplicitAny: as above
    create(params: any, options?: any): PromiseLike<any>;
  };
}
