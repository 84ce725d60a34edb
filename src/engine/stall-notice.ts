import type { Worker } from "node:worker_threads";

/**
 * Node handles Ctrl-C on the event loop, so a task or scorer that loops synchronously in the main thread (an eval
 * without a timeout, under --workers auto) leaves Ctrl-C waiting with no sign of why. A small thread watches a
 * heartbeat the main thread's event loop keeps, and says so on stderr (written directly: a worker's
 * process.stderr goes through the main thread) once the loop has not turned for a while.
 *
 * The thread starts only once a run has lasted START_AFTER_MS: it costs ~50 ms of the other core, which a short
 * run (and every benchmark workload but W4's first run) should not pay.
 */

const START_AFTER_MS = 2000;
const BEAT_MS = 250;
const DEFAULT_NOTICE_AFTER_MS = 10_000;

const MESSAGE = (seconds: number, rawKeys: boolean) =>
  `\nevalrun: the main thread has been busy for ${seconds} s without a break, likely in a task or scorer that ` +
  "does not yield (a synchronous loop). " +
  (rawKeys
    ? `Keys reach evalrun only once it returns (watch mode reads them itself, so Ctrl-C and Ctrl-\\ are keys too): to stop it now, run \`kill -9 ${process.pid}\` in another terminal (then \`reset\` here if the terminal misbehaves). `
    : "Ctrl-C is handled only once it returns; Ctrl-\\ quits now. ") +
  "An eval with a `timeout` runs in worker threads, where a blocked row is stopped.\n";

// The watcher's whole code: CommonJS, evaluated in its own thread. Slot 0 is the heartbeat, slot 1 asks it to stop.
const WATCHER = `
const { workerData } = require("node:worker_threads");
const { writeSync } = require("node:fs");
const { performance } = require("node:perf_hooks");
const slots = new Int32Array(workerData.buffer);
let seen = Atomics.load(slots, 0);
let since = performance.now();
let told = false;
while (Atomics.wait(slots, 1, 0, workerData.poll) === "timed-out") {
  const beat = Atomics.load(slots, 0);
  if (beat !== seen) { seen = beat; since = performance.now(); told = false; continue; }
  if (!told && performance.now() - since >= workerData.after) {
    told = true;
    try { writeSync(2, workerData.message); } catch {}
  }
}
`;

let holders = 0;
let startTimer: NodeJS.Timeout | undefined;
let beatTimer: NodeJS.Timeout | undefined;
let watcher: { worker: Worker; slots: Int32Array } | undefined;

/** EVALRUN_STALL_NOTICE_MS: how long the loop may not turn before the notice (0: never). */
export function noticeAfterMs(): number {
  const raw = process.env.EVALRUN_STALL_NOTICE_MS;
  const value = raw === undefined || raw === "" ? DEFAULT_NOTICE_AFTER_MS : Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : DEFAULT_NOTICE_AFTER_MS;
}

async function start(after: number, rawKeys: boolean): Promise<void> {
  // Loaded here, not with the CLI: most runs end before the watcher is wanted.
  const { Worker } = await import("node:worker_threads");
  if (holders === 0 || watcher) return;
  const slots = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(WATCHER, {
    eval: true,
    workerData: {
      buffer: slots.buffer,
      after,
      poll: Math.min(500, Math.max(50, after / 4)),
      message: MESSAGE(Math.round(after / 100) / 10, rawKeys),
    },
    stdout: true,
    stderr: true,
  });
  // The watcher must never keep the process alive, nor fail a run: it only ever prints.
  worker.unref();
  worker.on("error", () => {});
  watcher = { worker, slots };
  beatTimer = setInterval(() => Atomics.add(slots, 0, 1), Math.min(BEAT_MS, Math.max(10, after / 8)));
  beatTimer.unref();
}

function stop(): void {
  clearTimeout(startTimer);
  clearInterval(beatTimer);
  startTimer = undefined;
  beatTimer = undefined;
  if (watcher) {
    Atomics.store(watcher.slots, 1, 1);
    Atomics.notify(watcher.slots, 1);
    watcher = undefined;
  }
}

/**
 * Watches the main thread while eval code may run in it; returns the function that ends this hold. Holds nest
 * (watch mode runs evals concurrently); the watcher stops with the last.
 */
export function watchForStalls(options: { rawKeys?: boolean } = {}): () => void {
  const after = noticeAfterMs();
  if (after === 0) return () => {};
  if (holders++ === 0) {
    startTimer = setTimeout(
      () => void start(after, options.rawKeys === true),
      Math.min(START_AFTER_MS, after),
    );
    startTimer.unref();
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holders === 0) stop();
  };
}
