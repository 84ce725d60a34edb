// The requests behind EmbeddingSimilarity, loaded on its first call (see embedding.ts).
import { EvalrunError } from "../../define/errors.js";
import { recordUsage } from "../../define/usage.js";
import { clientFor } from "../../llm/client.js";
import { embeddingModel } from "../../llm/config.js";
import { redactError } from "../../llm/errors.js";
import type { EmbeddingResponse, LLMClient } from "../../llm/types.js";
import type { EmbeddingSimilarityArgs } from "./embedding.js";

/** One embedding request, shared by every row that needs the same text while it runs. */
interface InFlight {
  promise: Promise<Float32Array>;
  controller: AbortController;
  waiters: number;
  settled: boolean;
}

const inFlight = new Map<string, InFlight>();
/**
 * Finished embeddings, least recently used first. Bounded: a run over 100,000 distinct outputs must not keep
 * them all (a 1,536-dimension vector is 6 KB as float32), while repeats (trials, a shared `expected`) sit close.
 */
const finished = new Map<string, Float32Array>();
const FINISHED_MAX = 5000;

function responseError(message: string): EvalrunError {
  return new EvalrunError(
    "LLM_RESPONSE",
    message,
    "Check that the model is an embedding model and the server implements /embeddings.",
  );
}

function vectorOf(response: EmbeddingResponse | undefined): Float32Array {
  const embedding = response?.data?.[0]?.embedding;
  if (!Array.isArray(embedding) || embedding.length === 0) {
    throw responseError("The LLM provider's embeddings answer has no data[0].embedding array.");
  }
  const vector = new Float32Array(embedding.length);
  for (let i = 0; i < embedding.length; i++) {
    const value = embedding[i];
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw responseError(`The LLM provider's embedding holds a non-number at index ${i}.`);
    }
    vector[i] = value;
  }
  return vector;
}

function remember(key: string, vector: Float32Array): void {
  finished.set(key, vector);
  if (finished.size > FINISHED_MAX) finished.delete(finished.keys().next().value as string);
}

function request(
  client: LLMClient,
  key: string,
  model: string,
  text: string,
  signal: AbortSignal | undefined,
) {
  const controller = new AbortController();
  const entry: InFlight = {
    controller,
    waiters: 0,
    settled: false,
    promise: Promise.resolve(
      client.embeddings.create({ model, input: text }, { signal: controller.signal }),
    ).then((response: EmbeddingResponse) => {
      // The row that asked first pays for the tokens; rows served from the cache spent none.
      recordUsage(signal, response?.usage);
      return vectorOf(response);
    }),
  };
  entry.promise.then(
    (vector) => {
      entry.settled = true;
      inFlight.delete(key);
      remember(key, vector);
    },
    () => {
      entry.settled = true;
      // A failure is not cached: a later row may succeed.
      if (inFlight.get(key) === entry) inFlight.delete(key);
    },
  );
  inFlight.set(key, entry);
  return entry;
}

/**
 * The embedding of `text`, requested once however many rows ask at once or later. The shared request is aborted
 * only when every row waiting for it has aborted, so one row's timeout does not fail the others.
 */
function embed(
  client: LLMClient,
  providerKey: string,
  model: string,
  text: string,
  signal: AbortSignal | undefined,
): Promise<Float32Array> {
  const key = `${providerKey}\u0000${model}\u0000${text}`;
  const done = finished.get(key);
  if (done !== undefined) {
    finished.delete(key);
    finished.set(key, done);
    return Promise.resolve(done);
  }
  if (signal?.aborted) return Promise.reject(signal.reason);
  const entry = inFlight.get(key) ?? request(client, key, model, text, signal);
  entry.waiters++;
  return new Promise((resolve, reject) => {
    let left = false;
    const leave = () => {
      if (left) return false;
      left = true;
      entry.waiters--;
      signal?.removeEventListener("abort", onAbort);
      return true;
    };
    const onAbort = () => {
      if (!leave()) return;
      if (entry.waiters === 0 && !entry.settled) {
        entry.controller.abort(signal?.reason);
        if (inFlight.get(key) === entry) inFlight.delete(key);
      }
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    entry.promise.then(
      (vector) => {
        if (leave()) resolve(vector);
      },
      (error: unknown) => {
        if (leave()) reject(error);
      },
    );
  });
}

function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) {
    throw responseError(`The LLM provider's embeddings differ in length (${a.length} and ${b.length}).`);
  }
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  if (na === 0 || nb === 0) throw responseError("The LLM provider returned an embedding of all zeros.");
  return Math.max(-1, Math.min(1, dot / Math.sqrt(na * nb)));
}

/** The cosine similarity of the two texts' embeddings. */
export async function similarity(
  args: EmbeddingSimilarityArgs,
  output: string,
  expected: string,
): Promise<number> {
  const { client, providerKey, secrets } = clientFor(args);
  if (typeof client.embeddings?.create !== "function") {
    throw new EvalrunError(
      "LLM_CONFIG",
      "The client given to init() has no embeddings.create, which EmbeddingSimilarity needs.",
    );
  }
  const model = embeddingModel(args.model);
  const [x, y] = await Promise.all([
    embed(client, providerKey, model, output, args.signal),
    embed(client, providerKey, model, expected, args.signal),
  ]).catch((error: unknown) => {
    throw redactError(error, secrets);
  });
  return cosine(x, y);
}

/** Forgets finished embeddings (for tests). */
export function clearEmbeddingCache(): void {
  finished.clear();
}
