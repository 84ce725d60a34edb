import { EvalrunError, MAX_TIMER_MS } from "../../define/errors.js";
import { checkInteger, normalizeBaseUrl } from "../../llm/checks.js";
import { type InitOptions, setSettings } from "../../llm/settings.js";

export type { InitOptions } from "../../llm/settings.js";

/**
 * Configures the LLM scorers of this thread, as autoevals' `init()`: a client to use instead of the built-in one,
 * default models, or the provider and its limits. Each call replaces the previous settings; `init()` resets them.
 * Settings here win over environment variables; a scorer's own options win over both.
 */
export function init(options: InitOptions = {}): void {
  const client = options.client as unknown as { chat?: { completions?: { create?: unknown } } } | undefined;
  if (client !== undefined && typeof client?.chat?.completions?.create !== "function") {
    throw new EvalrunError(
      "LLM_CONFIG",
      "init({ client }) needs an OpenAI-SDK-shaped client: an object with chat.completions.create (and " +
        "embeddings.create for EmbeddingSimilarity), such as `new OpenAI()`.",
    );
  }
  checkInteger("init({ concurrency })", options.concurrency, 1);
  checkInteger("init({ timeoutMs })", options.timeoutMs, 1, MAX_TIMER_MS);
  checkInteger("init({ maxRetries })", options.maxRetries, 0);
  if (options.baseUrl !== undefined) normalizeBaseUrl(options.baseUrl, "init({ baseUrl })");
  setSettings(options);
}
