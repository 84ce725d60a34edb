import { EvalrunError, type EvalrunErrorCode } from "../define/errors.js";

/** Replaces every occurrence of the key, so that a provider echoing it (some do, in 401s) cannot leak it. */
export function redact(text: string, secret: string | undefined): string {
  if (secret === undefined || secret === "") return text;
  return text.split(secret).join("[redacted]");
}

/** An LLM error whose message and hint never hold the key. */
export function llmError(
  code: EvalrunErrorCode,
  message: string,
  hint: string | undefined,
  secret: string | undefined,
): EvalrunError {
  return new EvalrunError(
    code,
    redact(message, secret),
    hint === undefined ? undefined : redact(hint, secret),
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
