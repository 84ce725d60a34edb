import { EvalrunError } from "../define/errors.js";

// Checks that run when an eval file loads (init, LLMClassifier) as well as per call, kept apart from the client so
// that importing evalrun does not load it.

export function configError(message: string, hint?: string): EvalrunError {
  return new EvalrunError("LLM_CONFIG", message, hint);
}

/** Checks a number given to init() or an option, where a mistake should fail when the eval file loads. */
export function checkInteger(
  name: string,
  value: number | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw configError(
      `${name} must be an integer of at least ${min}${max < Number.MAX_SAFE_INTEGER ? ` and at most ${max}` : ""}, not ${String(value)}.`,
    );
  }
}

/** A URL fit for a message: no user name or password, no trailing slash. */
export function displayUrl(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = "";
    url.password = "";
    url.search = "";
    url.hash = "";
    return url.href.replace(/\/+$/, "");
  } catch {
    return "(an invalid URL)";
  }
}

/** The base URL without a trailing slash, or a config error naming where it came from. */
export function normalizeBaseUrl(raw: string, source: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // The value is not shown: a key put in the URL's variable by mistake, or a URL with a password that does not
    // parse (a bad port), would be printed and stored with the rows' errors.
    throw configError(
      `${source} is not a URL (its value, ${raw.length} characters, is not shown in case it holds a secret${/^(sk-|key-)/i.test(raw.trim()) ? "; it looks like an API key" : ""}).`,
      "Give the API's base URL with its scheme, e.g. http://localhost:8000/v1 (and the key in its own variable).",
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    // Only the scheme is quoted: `Authorization: Bearer sk-...` or `id:secret` parse as URLs of a made-up scheme.
    throw configError(
      `${source} must be an http:// or https:// URL; its value starts "${url.protocol}" (the rest is not shown in case it holds a secret).`,
      "Give the API's base URL with its scheme, e.g. http://localhost:8000/v1 (and the key in its own variable).",
    );
  }
  // Paths are appended to it (/chat/completions), after a query, which would end up in the path; and a key put in
  // the query or the credentials would be printed with every error, or dropped unsent.
  if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
    throw configError(
      `${source} must be the API's base URL alone, with no ${url.search || url.hash ? "query (?...) or fragment" : "user name or password"}: evalrun appends /chat/completions and /embeddings to it, and sends nothing else from it.`,
      "Put a key in EVALRUN_LLM_API_KEY (or OPENAI_API_KEY), and anything else a gateway needs in init({ headers }) or a scorer's openAiDefaultHeaders.",
    );
  }
  return raw.replace(/\/+$/, "");
}
