/**
 * Token usage reported by LLM calls made for a row, keyed by the row's AbortSignal: the one handle that both the
 * task (hooks.signal) and the scorers (args.signal) already carry, so no async context is needed to attribute a
 * call to its row. The map lives on globalThis so that a second copy of evalrun in the same thread shares it.
 */
export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
  /** Braintrust's name for the total. */
  tokens: number;
}

/** What an OpenAI-compatible response's `usage` holds; every field may be missing. */
export interface ProviderUsage {
  prompt_tokens?: number | undefined;
  completion_tokens?: number | undefined;
  total_tokens?: number | undefined;
}

const KEY = Symbol.for("evalrun.usage.v1");

function usageMap(): WeakMap<AbortSignal, TokenUsage> {
  const g = globalThis as { [KEY]?: WeakMap<AbortSignal, TokenUsage> };
  g[KEY] ??= new WeakMap();
  return g[KEY];
}

const count = (value: unknown): number =>
  typeof value === "number" && Number.isFinite(value) && value > 0 ? value : 0;

/** Adds one call's usage to the row that owns `signal`; a call made outside a row (no signal) is not counted. */
export function recordUsage(signal: AbortSignal | undefined, usage: ProviderUsage | undefined): void {
  if (signal === undefined || usage === undefined) return;
  const prompt = count(usage.prompt_tokens);
  const completion = count(usage.completion_tokens);
  const total = count(usage.total_tokens) || prompt + completion;
  const map = usageMap();
  const sum = map.get(signal);
  if (sum === undefined) {
    map.set(signal, { prompt_tokens: prompt, completion_tokens: completion, tokens: total });
    return;
  }
  sum.prompt_tokens += prompt;
  sum.completion_tokens += completion;
  sum.tokens += total;
}

/** The usage recorded for a row so far, and forgets it. */
export function takeUsage(signal: AbortSignal): TokenUsage | undefined {
  const map = usageMap();
  const sum = map.get(signal);
  if (sum !== undefined) map.delete(signal);
  return sum;
}
