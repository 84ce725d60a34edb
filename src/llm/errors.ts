import { EvalrunError, type EvalrunErrorCode } from "../define/errors.js";
import { redact } from "../util/secrets.js";

// Applied to a body before it is cut to a preview: a key cut in two by the preview no longer matches.
export { redact };

/**
 * An error with the secrets taken out of its message and stack (and its causes'), for errors evalrun's own HTTP
 * client did not make: a client given to init() (a proxy echoing the key in a 401), a judge's unusable answer.
 */
export function redactError(error: unknown, secrets: readonly string[]): unknown {
  if (secrets.length === 0) return error;
  for (let e = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    e.message = redact(e.message, secrets);
    if (e.stack) e.stack = redact(e.stack, secrets);
  }
  return typeof error === "string" ? redact(error, secrets) : error;
}

/** A parsed value with every string redacted, recursively (objects and arrays are copied). */
export function redactDeep(value: unknown, secrets: readonly string[]): unknown {
  if (secrets.length === 0) return value;
  if (typeof value === "string") return redact(value, secrets);
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, secrets));
  if (typeof value === "object" && value !== null) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = redactDeep(item, secrets);
    return copy;
  }
  return value;
}

/**
 * The secrets of a provider configuration: its key, and the values of its extra headers (a provider whose key is
 * not a Bearer token takes it in a header), with an authorization scheme's credentials on their own too.
 */
export function secretsOf(config: {
  apiKey?: string | undefined;
  headers?: Record<string, string>;
}): string[] {
  const secrets: string[] = [];
  if (config.apiKey) secrets.push(config.apiKey);
  for (const value of Object.values(config.headers ?? {})) {
    if (typeof value !== "string" || value === "") continue;
    secrets.push(value);
    const credentials = /^\s*\w+\s+(\S+)\s*$/.exec(value)?.[1];
    if (credentials) secrets.push(credentials);
  }
  // Longest first: a header holding the key with its scheme goes before the key alone.
  return secrets.sort((a, b) => b.length - a.length);
}

/**
 * The secrets of a provider configuration worth taking out of every recorded error, not only the provider's own:
 * its key and the headers named as credentials (a Content-Type's "application/json" is no secret, and would be
 * taken out of every task's error).
 */
export function credentialsOf(config: { apiKey?: unknown; headers?: unknown }): string[] {
  const headers =
    typeof config.headers === "object" && config.headers !== null
      ? Object.fromEntries(
          Object.entries(config.headers).filter(([name]) =>
            /key|token|secret|auth|pass|cookie|signature|credential/i.test(name),
          ),
        )
      : {};
  return secretsOf({
    apiKey: typeof config.apiKey === "string" ? config.apiKey : undefined,
    headers: headers as Record<string, string>,
  });
}

/** An LLM error whose message and hint never hold a secret. */
export function llmError(
  code: EvalrunErrorCode,
  message: string,
  hint: string | undefined,
  secrets: ReadonlyArray<string | undefined> | string | undefined,
): EvalrunError {
  return new EvalrunError(
    code,
    redact(message, secrets),
    hint === undefined ? undefined : redact(hint, secrets),
  );
}

/** A short, single-line preview of a body for an error message. */
export function preview(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return JSON.stringify(flat.length > max ? `${flat.slice(0, max)}…` : flat);
}

/** The provider's own error message from an OpenAI-style error body, if it has one. */
export function providerMessage(text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return text.trim() === "" ? undefined : preview(text);
  }
  if (typeof body !== "object" || body === null) return undefined;
  const b = body as { error?: unknown; message?: unknown; detail?: unknown };
  const error = b.error;
  if (typeof error === "string") return error;
  if (typeof error === "object" && error !== null) {
    const message = (error as { message?: unknown }).message;
    if (typeof message === "string") return message;
  }
  if (typeof b.message === "string") return b.message;
  if (typeof b.detail === "string") return b.detail;
  return preview(text);
}
