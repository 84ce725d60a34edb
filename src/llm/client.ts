import { rememberSecrets } from "../util/secrets.js";
import { type ProviderOptions, resolveProvider } from "./config.js";
import { credentialsOf, secretsOf } from "./errors.js";
import { createHttpClient } from "./http-client.js";
import { getSettings } from "./settings.js";
import type { LLMClient } from "./types.js";

export interface ResolvedClient {
  client: LLMClient;
  /** Identifies the provider, for caches that must not mix answers of two providers. */
  providerKey: string;
  /**
   * What must never be stored or shown: the provider's key and header values; for a client given to init(), its
   * own `apiKey` and the keys in the environment, since its errors and answers reach rows without evalrun's HTTP.
   */
  secrets: string[];
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
    const own = (provider.client as { apiKey?: unknown }).apiKey;
    const known = [own, process.env.OPENAI_API_KEY, process.env.EVALRUN_LLM_API_KEY, getSettings().apiKey];
    const secrets = known.filter((s): s is string => typeof s === "string" && s.length >= 4);
    rememberSecrets(secrets);
    return { client: provider.client, providerKey: key, secrets };
  }
  // A scorer's own key is taken out of every recorded error too (a wrapper scorer may rethrow it in any shape).
  rememberSecrets(credentialsOf(provider.config));
  return {
    client: createHttpClient(provider.config),
    providerKey: provider.config.baseUrl,
    secrets: secretsOf(provider.config),
  };
}
