/**
 * A pool thread's entry: one session per thread for the whole run. It imports eval bundles itself (a user function
 * never crosses a thread), runs the items the main thread sends with the same runItem as in-process runs, and
 * posts results back in batches. Errors a task lets escape are pinned to its row through AsyncLocalStorage, and
 * process.exit() in a task ends that row instead of the thread.
 */
// The public entry, which the eval bundles a worker imports load anyway: reached from here, the modules this thread
// and eval files share fall into the same chunks as the CLI's, so a run loads fewer files (see core.ts).
import "../index.js";
import { AsyncLocalStorage } from "node:async_hooks";
import { setMaxListeners } from "node:events";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import type { MessagePort } from "node:worker_threads";
import { errorLine } from "../define/errors.js";
import { braintrustKey } from "../define/eval-key.js";
import { getRegistry } from "../define/registry.js";
import type { EvalDefinition } from "../define/types.js";
import { storableJson } from "../util/storable-json.js";
import { ExitCalled } from "./exit-guard.js";
import type { EvalAddress, FromWorker, SessionTask, ToWorker } from "./pool-protocol.js";
import { type ItemContext, isPlainJson, runItem, taskError, textTags, type WorkItem } from "./row.js";
import { lateWork } from "./slot-hold.js";
import type { RowError, RowResult } from "./types.js";

const rowOf = new AsyncLocalStorage<number>();
const stop = new AbortController();
// The hard stop of every row in flight in this thread that reads its signal or has a timeout (see run-evals.ts).
setMaxListeners(0, stop.signal);
const addresses = new Map<string, EvalAddress>();
const contexts = new Map<string, Promise<ItemContext>>();
const bundles = new Map<string, Promise<EvalDefinition[]>>();
const pending = new Set<number>();
const strays = new Map<number, RowError>();
let port: MessagePort | undefined;
let outbox: Array<[number, RowResult | null, true?]> = [];
let scheduled = false;
let loading: Promise<unknown> = Promise.resolve();
let closing = false;
let closed: (() => void) | undefined;

let lastPost = Date.now();

function post(message: FromWorker): void {
  lastPost = Date.now();
  try {
    port?.postMessage(message);
  } catch {
    // A value that cannot be cloned (a function in an output, a value nested too deeply to copy): each result is
    // sent as what the store would keep, field by field, so that one row's value never loses the batch's others.
    if (message.t === "results")
      port?.postMessage({
        t: "results",
        results: message.results.map(([id, r, held]) => [id, r && sendable(r), ...(held ? [held] : [])]),
      });
    else port?.postMessage(JSON.parse(storableJson(message) ?? "{}"));
  }
}

/** A result whose fields the main thread can receive: each that cannot be cloned as its JSON, or a marker. */
function sendable(result: RowResult): RowResult {
  try {
    return structuredClone(result);
  } catch {
    const copy: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(result)) {
      try {
        copy[key] = structuredClone(value);
      } catch {
        const json = storableJson(value);
        copy[key] = json === undefined ? undefined : JSON.parse(json);
      }
    }
    return copy as unknown as RowResult;
  }
}

function flush(): void {
  scheduled = false;
  if (outbox.length === 0) return;
  const results = outbox;
  outbox = [];
  post({ t: "results", results });
  if (closing && pending.size === 0) closed?.();
}

function escaped(error: unknown): void {
  const id = rowOf.getStore();
  const failure = taskError(error);
  const row = id !== undefined && pending.has(id);
  // Outside any row: a file's top-level code (a timer, a pool connecting) that fails in this thread.
  const source = row
    ? "the task"
    : id !== undefined
      ? "a task after its row ended"
      : "the eval code in a worker thread, outside any row";
  failure.message = `An error escaped ${source} (a promise nobody awaited, or a throw in a callback): ${failure.message}`;
  // The first error a row lets escape is kept: it is usually the cause, and later ones its consequences.
  if (row) {
    if (!strays.has(id)) strays.set(id, failure);
  } else post({ t: "stray", error: failure });
}

/** Imports a bundle once; imports run one at a time because the registry attributes them to one file. */
function definitionsOf(address: EvalAddress): Promise<EvalDefinition[]> {
  let found = bundles.get(address.bundle);
  if (!found) {
    found = loading.then(async () => {
      post({ t: "loading", on: true, bundle: address.bundle });
      const registry = getRegistry();
      registry.mode = "collect";
      registry.currentFile = address.file;
      registry.evals = [];
      try {
        await import(pathToFileURL(address.bundle).href);
        return registry.evals;
      } finally {
        registry.evals = [];
        registry.currentFile = undefined;
        post({ t: "loading", on: false, bundle: address.bundle });
      }
    });
    loading = found.catch(() => undefined);
    bundles.set(address.bundle, found);
  }
  return found;
}

function contextOf(key: string): Promise<ItemContext> {
  let ctx = contexts.get(key);
  if (!ctx) {
    const address = addresses.get(key);
    if (!address) return Promise.reject(new Error(`evalrun: no eval ${key} in this worker`));
    ctx = definitionsOf(address).then((definitions) => {
      // An eval the loader told apart by its experimentName registered under its project's name.
      const definition =
        definitions.find((d) => d.name === address.name) ??
        definitions.find(
          (d) =>
            typeof d.evaluator.experimentName === "string" &&
            braintrustKey(d.name, d.evaluator.experimentName) === address.name,
        );
      if (!definition)
        throw new Error(`the file did not register an eval named "${address.name}" in a worker thread`);
      return {
        evaluator: definition.evaluator,
        scorerNames: address.scorerNames,
        timeout: address.timeout,
        hardStop: stop.signal,
      };
    });
    contexts.set(key, ctx);
  }
  return ctx;
}

const reportedLoadErrors = new Set<string>();

/**
 * Rows resumed one after another in microtasks (many requests answered at once, each followed by some parsing) keep
 * the event loop, and so the heartbeat, from running: a thread busy that way says it is alive at each row's start
 * and end, when it has been quiet a while, so that busy is never taken for blocked.
 */
function sayAlive(): void {
  if (Date.now() - lastPost > 50) post({ t: "alive" });
}

/** Rows that finish in microtasks would keep the thread from its heartbeat and from posting results. */
let yielded = performance.now();
const YIELD_EVERY_MS = 10;

async function start(id: number, key: string, item: WorkItem): Promise<void> {
  pending.add(id);
  if (performance.now() - yielded > YIELD_EVERY_MS) {
    await new Promise((resolve) => setImmediate(resolve));
    yielded = performance.now();
  }
  let ctx: ItemContext;
  try {
    ctx = await contextOf(key);
  } catch (error) {
    pending.delete(id);
    if (!reportedLoadErrors.has(key)) {
      reportedLoadErrors.add(key);
      // ExitCalled's own words are for a row ("ends this row"): here no row ran.
      const text =
        error instanceof ExitCalled
          ? `process.exit(${error.code === undefined ? "" : String(error.code)}) was called by its top-level code`
          : errorLine(error);
      post({ t: "load-error", evalKey: key, message: text });
    }
    return;
  }
  // Said here, as the row's task is about to run: rows queued together start back to back, each running its
  // synchronous part before any of them is awaited.
  sayAlive();
  const outcome = rowOf.run(id, () => runItem(ctx, item));
  const result = outcome instanceof Promise ? await outcome : outcome;
  pending.delete(id);
  const stray = strays.get(id);
  strays.delete(id);
  if (result && stray && !result.error) result.error = stray;
  // As the main thread's store takes them when the row ends: a task's callback that meta()s or tags after
  // it returned must not reach the result in whichever rows happen to wait in the outbox.
  if (result) {
    try {
      result.metadata = { ...result.metadata };
    } catch (error) {
      // A task set hooks.metadata to an object whose getter throws: the row keeps its error, not a lost result.
      result.metadata = {};
      result.error ??= {
        kind: "task",
        message: `Reading the row's metadata threw ${taskError(error).message}`,
      };
    }
    result.tags = [...textTags(result.tags)];
    // Sent as the store would keep it in the main thread: a clone drops prototypes, so a toJSON (a Decimal, a
    // LangChain message, a Buffer) went unapplied and the stored output depended on --workers.
    if (result.output !== undefined && !isPlainJson(result.output)) {
      const json = storableJson(result.output);
      result.output = json === undefined ? undefined : JSON.parse(json);
    }
  }
  // A timed-out row whose task runs on: the main thread holds its slot, and watches this thread, till it settles.
  const late = lateWork(result);
  if (late) {
    outbox.push([id, result ?? null, true]);
    const settled = () => post({ t: "settled", ids: [id] });
    late.then(settled, settled);
  } else outbox.push([id, result ?? null]);
  // A row of an eval with a timeout may block this thread next, in this same turn (rows whose awaits end together),
  // and a blocked thread is stopped with whatever waits to be sent: those rows' finished results were lost and their
  // tasks run again. Such rows are sent at once.
  if (outbox.length >= 200 || Date.now() - lastPost > 50 || ctx.timeout !== undefined) flush();
  else if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
}

function onMessage(message: ToWorker): void {
  switch (message.t) {
    case "eval":
      addresses.set(message.address.key, message.address);
      // Start importing now, so the first rows do not wait for it; a failure is reported with them.
      contextOf(message.address.key).catch(() => undefined);
      break;
    case "items":
      for (const [id, key, item] of message.items) void start(id, key, item);
      break;
    case "stop":
      stop.abort();
      break;
    case "close":
      closing = true;
      flush();
      if (pending.size === 0) closed?.();
      break;
  }
}

/** The MessagePorts this thread's event loop held before any eval file was imported (evalrun's and tinypool's). */
let ownPorts = 0;
/** Heartbeats in a row at which this thread had nothing to wait on but its own ports and the heartbeat. */
let idleBeats = 0;

/**
 * True when nothing in this thread can settle a pending row: the only live handles are the ports evalrun and
 * tinypool opened before user code ran, and the heartbeat running now. A row's timer, socket or file read, an
 * immediate, a child process: any other handle means a row may still be woken.
 */
function nothingToWaitOn(): boolean {
  let ports = 0;
  let timers = 0;
  for (const resource of process.getActiveResourcesInfo()) {
    if (resource === "MessagePort") ports++;
    else if (resource === "Timeout") timers++;
    else return false;
  }
  return ports <= ownPorts && timers <= 1;
}

/**
 * The heartbeat; while rows are pending with nothing to wait on for 300 ms, it names them, and the main thread
 * (which alone knows whether it is idle too) decides whether they can ever finish.
 */
function beat(): void {
  // While an import runs too: one waiting on nothing never ends either (the main thread knows whether it matters).
  idleBeats = pending.size > 0 && nothingToWaitOn() ? idleBeats + 1 : 0;
  post(idleBeats >= 3 ? { t: "alive", idle: [...pending] } : { t: "alive" });
}

/** The session: runs until the main thread closes it (or terminates the thread). */
export default function session(task: SessionTask): Promise<void> {
  if (task.sourceMaps) process.setSourceMapsEnabled(true);
  process.on("unhandledRejection", escaped);
  process.on("uncaughtException", escaped);
  process.exit = ((code?: number) => {
    throw new ExitCalled(code);
  }) as typeof process.exit;
  port = task.port;
  const heartbeat = setInterval(beat, 100);
  return new Promise<void>((resolve) => {
    closed = () => {
      clearInterval(heartbeat);
      port?.close();
      resolve();
    };
    port?.on("message", onMessage);
    for (const resource of process.getActiveResourcesInfo()) if (resource === "MessagePort") ownPorts++;
  });
}
