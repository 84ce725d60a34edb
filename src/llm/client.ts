import { type ProviderOptions, resolveProvider } from "./config.js";
import { createHttpClient } from "./http-client.js";
import type { LLMClient } from "./types.js";

export interface ResolvedClient {
  client: LLMClient;
  /** Identifies the provider, for caches that must not mix answers of two providers. */
  providerKey: string;
}

const injectedKeys = new WeakMap<LLMClient, string>();
let nextInjected = 0;

/**
 * The client a scorer call uses, resolved at call time (so that `.env`, `init()` and the row's options all
 * count). Throws the LLM_CONFIG error when nothing is configured.
 */
export function clientFor(options: ProviderOptions = {}): ResolvedClient {
  const provider = resolveProvider(options);
  if (provider.kind === "client") {
    let key = injectedKeys.get(provider.client);
    if (key === undefined) {
      key = `client#${nextInjected++}`;
      injectedKeys.set(provider.client, key);
    }
    return { client: provider.client, providerKey: key };
  }
  return { client: createHttpClient(provider.config), providerKey: provider.config.baseUrl };
}
