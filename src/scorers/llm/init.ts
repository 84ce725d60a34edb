import path from "node:path";
import { EvalrunError, MAX_TIMER_MS } from "../../define/errors.js";
import { getRegistry } from "../../define/registry.js";
import { checkInteger, normalizeBaseUrl } from "../../llm/checks.js";
import { credentialsOf } from "../../llm/errors.js";
import { type InitOptions, setSettings } from "../../llm/settings.js";
import { rememberSecrets } from "../../util/secrets.js";
import { closestName } from "../../util/suggest.js";

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
  // Said by the main thread only: each worker thread imports the eval file, and calls init(), again. (Read here, not
  // imported: every eval file loads this module, few call init().)
  if (process.getBuiltinModule("node:worker_threads").isMainThread) {
    warnUnknownKeys(options);
    warnIfReplacing(options);
  }
  // Its keys are taken out of every recorded error, as the environment's are: a client's or SDK's error (a
  // rejected plain object, an AggregateError) may quote them anywhere.
  rememberSecrets([...credentialsOf(options), (options.client as { apiKey?: unknown } | undefined)?.apiKey]);
  setSettings(options);
}

// Every option init() reads; the type makes this list complete.
const KNOWN: Record<keyof InitOptions, true> = {
  client: true,
  model: true,
  defaultModel: true,
  embeddingModel: true,
  baseUrl: true,
  apiKey: true,
  headers: true,
  concurrency: true,
  timeoutMs: true,
  maxRetries: true,
};

/** A misspelt option (defualtModel) changes which model is paid for, silently: said, with the one likely meant. */
function warnUnknownKeys(options: InitOptions): void {
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(KNOWN, key)) continue;
    const near = closestName(key, Object.keys(KNOWN));
    process.stderr.write(
      `evalrun: init() does not take "${key}", so it is ignored.${near ? ` Did you mean "${near}"?` : ""} Its options: ${Object.keys(KNOWN).join(", ")}.\n`,
    );
  }
}

let last: { file: string; options: InitOptions } | undefined;
let warned = false;

/**
 * Two eval files calling init() with other settings: the settings are the process's (per thread), so the last file
 * loaded sets every eval's judges, the first file's included, silently. Said once, with what to do.
 */
function warnIfReplacing(options: InitOptions): void {
  const file = getRegistry().currentFile;
  if (file === undefined) return;
  const before = last;
  last = { file, options };
  if (warned || before === undefined || before.file === file || sameSettings(before.options, options)) return;
  warned = true;
  const name = (f: string) => path.relative(process.cwd(), f) || f;
  process.stderr.write(
    `evalrun: init() in ${name(file)} replaces the LLM settings ${name(before.file)} gave init(): they are one per process (per worker thread), so the judges of every eval now use ${name(file)}'s. Call init() once (in a module both import), or give a scorer its own options (model, baseUrl, apiKey).\n`,
  );
}

function sameSettings(a: InitOptions, b: InitOptions): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof InitOptions>;
  for (const key of keys) {
    const [x, y] = [a[key], b[key]];
    if (x === y) continue;
    if (
      typeof x === "object" &&
      typeof y === "object" &&
      JSON.stringify(x) === JSON.stringify(y) &&
      key !== "client"
    )
      continue;
    return false;
  }
  return true;
}
