import type { EvalrunError, EvalrunErrorCode } from "../define/errors.js";
import { displayUrl } from "./checks.js";
import type { HttpConfig } from "./config.js";
import { llmError, preview, providerMessage, redact, redactDeep, secretsOf } from "./errors.js";
import { limiterFor } from "./limiter.js";
import { backoffMs, honouredWaitMs, isRetryableStatus, retryAfterMs, sleep } from "./retry.js";
import type { LLMClient, RequestOptions } from "./types.js";

type Undici = typeof import("undici");
let undici: Promise<Undici> | undefined;
// Loaded on the first call: importing evalrun (every eval file does) must not pay for an HTTP stack.
const loadUndici = (): Promise<Undici> => {
  undici ??= import("undici");
  return undici;
};

/** Why an attempt failed, and whether another could succeed. */
interface Failure {
  code: EvalrunErrorCode;
  /** What the provider did, as the end of "The LLM provider at <url> …". */
  what: string;
  hint: string | undefined;
  retryable: boolean;
  /** The wait the provider asked for (Retry-After), in ms. */
  askedMs: number | undefined;
  /** No connection could be made (the server is down), as opposed to a slow or failing answer. */
  unreachable?: boolean;
}

/**
 * Providers whose last call could not connect even after its retries. Their next calls try once, not five times
 * over ~11 s: a server that went down mid-run otherwise kept each remaining row waiting that long (1,000 rows:
 * 16 minutes to say the server is down). Any answer clears it.
 */
const down = new Set<string>();

type Attempt = { ok: true; body: unknown } | { ok: false; failure: Failure };

const TIMED_OUT = Symbol("timed out");

// The statuses providers send, named here rather than through node:http, which importing evalrun would then load.
const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  408: "Request Timeout",
  409: "Conflict",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Entity",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

function statusHint(status: number): string | undefined {
  if (status === 401 || status === 403)
    return "Check the API key (EVALRUN_LLM_API_KEY, OPENAI_API_KEY or init({ apiKey })).";
  if (status === 404)
    return "Check the base URL (an OpenAI-compatible API's usually ends in /v1) and the model name.";
  if (status === 429)
    return "Lower EVALRUN_LLM_CONCURRENCY or the eval's maxConcurrency, or raise the provider's rate limit.";
  return undefined;
}

function errorCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === "string" ? code : undefined;
}

async function attempt(
  request: Undici["request"],
  config: HttpConfig,
  url: string,
  payload: string,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
): Promise<Attempt> {
  // One controller per attempt: the row's signal and this attempt's time limit both end it, and the cause decides
  // between giving up (the row is over) and retrying (the attempt was slow).
  if (signal?.aborted) throw signal.reason;
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => controller.abort(TIMED_OUT), config.timeoutMs);
  try {
    const response = await request(url, {
      method: "POST",
      headers,
      body: payload,
      signal: controller.signal,
      // undici's own limits (300 s each) would end a slow answer before a longer EVALRUN_LLM_TIMEOUT_MS did, as
      // "could not be reached"; the attempt's timer above is the limit.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    // Redacted before anything is cut from it for a message: see redact().
    const text = redact(await response.body.text(), secretsOf(config));
    const status = response.statusCode;
    if (status >= 200 && status < 300) {
      let parsed: unknown;
      try {
        // Again after parsing: a key the provider echoed JSON-escaped (\/ for /, \u002B for +) is whole only now.
        parsed = redactDeep(JSON.parse(text), secretsOf(config));
      } catch {
        const type = response.headers["content-type"];
        return {
          ok: false,
          failure: {
            code: "LLM_RESPONSE",
            what: `answered ${status} with a body that is not JSON (${type ? `content-type ${String(type)}` : "no content-type"}): ${preview(text)}`,
            hint: "Check that the base URL is an OpenAI-compatible API (it usually ends in /v1).",
            retryable: false,
            askedMs: undefined,
          },
        };
      }
      // Gateways that report an upstream failure in a 200 ({"error": {...}}, no choices): its reason, not "has no
      // message".
      const { error } = (parsed ?? {}) as { error?: unknown };
      if (
        error !== undefined &&
        error !== null &&
        (parsed as { choices?: unknown; data?: unknown }).choices === undefined &&
        (parsed as { data?: unknown }).data === undefined
      ) {
        return {
          ok: false,
          failure: {
            code: "LLM_RESPONSE",
            what: `answered ${status} with an error: ${providerMessage(text) ?? preview(text)}`,
            hint: undefined,
            retryable: false,
            askedMs: undefined,
          },
        };
      }
      return { ok: true, body: parsed };
    }
    const detail = providerMessage(text);
    // OpenAI says "out of credit" with a 429 too: no wait makes it pass, and "lower the concurrency" cannot help.
    const outOfQuota = status === 429 && /insufficient_quota|exceeded your current quota/i.test(text);
    return {
      ok: false,
      failure: {
        code: "LLM_REQUEST",
        what: `answered ${status} ${STATUS_TEXT[status] ?? ""}`.trimEnd() + (detail ? `: ${detail}` : ""),
        hint: outOfQuota
          ? "The account is out of quota: check its plan and billing, or use another key (EVALRUN_LLM_API_KEY, OPENAI_API_KEY)."
          : statusHint(status),
        retryable: !outOfQuota && isRetryableStatus(status),
        askedMs: retryAfterMs(response.headers),
      },
    };
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    const timedOut = controller.signal.aborted && controller.signal.reason === TIMED_OUT;
    const code = errorCode(error);
    return {
      ok: false,
      failure: {
        code: "LLM_REQUEST",
        what: timedOut
          ? `did not answer within ${config.timeoutMs} ms`
          : `could not be reached (${code ?? (error instanceof Error ? error.message : String(error))})`,
        hint: timedOut
          ? "Raise EVALRUN_LLM_TIMEOUT_MS or init({ timeoutMs }) if the model is slow."
          : "Check that the server is running and that the base URL is right.",
        retryable: true,
        askedMs: undefined,
        unreachable: !timedOut,
      },
    };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

function failureError(config: HttpConfig, path: string, failure: Failure, attempts: number): EvalrunError {
  const tries = attempts > 1 ? `, after ${attempts} attempts` : "";
  const message = `The LLM provider at ${displayUrl(config.baseUrl)} ${failure.what} (POST ${path}${tries}).`;
  return llmError(
    failure.code,
    failure.hint ? `${message} ${failure.hint}` : message,
    failure.hint,
    secretsOf(config),
  );
}

/**
 * POSTs JSON to the provider and returns the parsed answer. Retries 408, 429, 5xx, connection errors and attempts
 * that ran out of time, waiting as Retry-After asks (up to retryAfterCapMs, beyond which it fails at once) or with
 * jittered exponential backoff. The row's signal ends the call at once, also while queued or waiting to retry.
 */
async function postJson(
  config: HttpConfig,
  path: string,
  body: unknown,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  const { request } = await loadUndici();
  const url = `${config.baseUrl}${path}`;
  const payload = JSON.stringify(body);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json",
    "user-agent": "evalrun",
    ...(config.apiKey === undefined ? {} : { authorization: `Bearer ${config.apiKey}` }),
    ...config.headers,
  };
  const limiter = limiterFor(config.baseUrl, config.concurrency);
  await limiter.acquire(signal);
  try {
    const wasDown = down.has(config.baseUrl);
    const maxRetries = wasDown ? 0 : config.maxRetries;
    for (let retry = 0; ; retry++) {
      const outcome = await attempt(request, config, url, payload, headers, signal);
      if (outcome.ok) {
        down.delete(config.baseUrl);
        return outcome.body;
      }
      const { failure } = outcome;
      if (!failure.unreachable) down.delete(config.baseUrl);
      if (!failure.retryable || retry >= maxRetries) {
        if (failure.unreachable) down.add(config.baseUrl);
        const fast =
          wasDown && failure.unreachable
            ? "; not retried, as the calls before it could not reach it either"
            : "";
        throw failureError(config, path, { ...failure, what: `${failure.what}${fast}` }, retry + 1);
      }
      let wait: number;
      if (failure.askedMs !== undefined) {
        if (failure.askedMs > config.retryAfterCapMs) {
          throw failureError(
            config,
            path,
            {
              ...failure,
              what: `${failure.what}; it asked to retry after ${Math.round(failure.askedMs / 1000)} s, longer than evalrun waits (${config.retryAfterCapMs / 1000} s)`,
            },
            retry + 1,
          );
        }
        wait = honouredWaitMs(failure.askedMs);
      } else {
        wait = backoffMs(retry, config.retryBaseMs, config.retryMaxMs);
      }
      await sleep(wait, signal);
    }
  } finally {
    limiter.release();
  }
}

/** The built-in client: an OpenAI-SDK-shaped object over undici, for one provider configuration. */
export function createHttpClient(config: HttpConfig): LLMClient {
  return {
    chat: {
      completions: {
        create: (params: unknown, options?: RequestOptions) =>
          postJson(config, "/chat/completions", params, options?.signal),
      },
    },
    embeddings: {
      create: (params: unknown, options?: RequestOptions) =>
        postJson(config, "/embeddings", params, options?.signal),
    },
  };
}
