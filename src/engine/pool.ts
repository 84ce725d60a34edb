import { fstatSync } from "node:fs";
import type { MessagePort } from "node:worker_threads";
import type Tinypool from "tinypool";
import { cloneProblem } from "./cloneable.js";
import type { EvalAddress, FromWorker, SessionTask, ToWorker } from "./pool-protocol.js";
import { type Execute, failedResult, NEVER_SETTLED, type WorkItem } from "./row.js";
import { holdSlot } from "./slot-hold.js";
import type { RowError, RowResult } from "./types.js";

// Loaded by startWorkerPool: most runs need no threads, and tinypool brings child_process, worker_threads and
// assert with it (~10 ms of start-up).
let threads: {
  Tinypool: typeof Tinypool;
  MessageChannel: typeof import("node:worker_threads").MessageChannel;
};

export interface PoolOptions {
  /** Threads in the pool. */
  workers: number;
  /** The worker entry (dist/worker.js). */
  filename: string;
  /** Caps each worker's heap (EVALRUN_WORKER_HEAP_MB), so a runaway task ends its worker, not the machine. */
  heapMb?: number | undefined;
  /** The least time a thread may take to import an eval file (EVALRUN_WORKER_LOAD_MS; default 10 s). */
  loadFloorMs?: number | undefined;
}

interface Pending {
  id: number;
  evalKey: string;
  item: WorkItem;
  resolve: (result: RowResult | undefined | Promise<RowResult | undefined>) => void;
  started: number;
  timeout: number | undefined;
  /** It was in a thread that was stopped or died: it runs again alone, to tell the culprit from bystanders. */
  suspect: boolean;
  /** It was running alone in its thread. */
  isolated: boolean;
}

interface PoolEval {
  address: EvalAddress;
  local: Execute;
  /** Set once the eval runs in this thread instead (rows that cannot be cloned, a file that fails in a worker). */
  inProcess: boolean;
}

/** A blocked thread is one silent for a pending row's timeout plus this margin (it reports every 100 ms). */
const margin = (timeout: number) => Math.max(300, Math.round(timeout * 0.1));
const WATCH_EVERY_MS = 100;
/** How long a thread's boot may keep it silent before it counts as blocked (no user code runs then). */
const BOOT_LIMIT_MS = 60_000;
/**
 * How long a thread may take to import an eval file, blocked or waiting: 10 s, or 4 times what the main thread
 * took if more. Top-level code that never ends only in a thread (it waits on what only the main thread has, or
 * loops on `!isMainThread`) held the run at 0 rows for good; past this the eval runs in the main thread.
 */
const LOAD_FLOOR_MS = 10_000;
/** A thread that has not said it is alive for this long is blocked, not waiting (it says so every 100 ms). */
const BLOCKED_AFTER_MS = 1_000;
/**
 * How long a thread running rows that have no timeout, beside a timed-out row's late task, may be silent: a
 * blocked late task would otherwise hold them for good, and their own synchronous steps are given this long.
 */
const UNTIMED_LATE_MS = 10_000;
/** How long the threads get to end when the run does, before they are stopped. */
const CLOSE_WAIT_MS = 2_000;

/** One pool thread's session: the long-running tinypool task that items are streamed to. */
class Session {
  readonly pending = new Map<number, Pending>();
  /** Timed-out rows whose tasks run on in the thread: recorded, but holding their slots (slot-hold.ts). */
  readonly held = new Map<number, () => void>();
  /**
   * Those tasks, by their rows' timeouts, until the thread says they settled: one that blocks the thread later
   * (a late answer parsed for ever) gets it stopped as a pending row's would, though its slot has gone on.
   */
  readonly late = new Map<number, number | undefined>();
  /** Takes no new rows: an eval file's import never ended in it, and it ends once its other rows have. */
  draining = false;
  /** The bundles it has imported (or failed to): rows of any other wait on its imports. */
  readonly loaded = new Set<string>();
  private readonly port: MessagePort;
  private outbox: Array<[number, string, WorkItem]> = [];
  private scheduled = false;
  private readonly stopper = new AbortController();
  killed = false;
  /** Running one suspect row and nothing else. */
  exclusive = false;
  lastHeard = Date.now();
  /**
   * Starting (until its first message: a thread's boot on a busy machine can take a second) or importing an eval
   * file: silence then is no row's. A boot is judged by BOOT_LIMIT_MS, an import by loadLimit, not a row's timeout.
   */
  starting = true;
  loading: { bundle: string; since: number } | undefined;
  /** The rows the thread last said it holds with nothing to wait on (its heartbeat's `idle`). */
  idle: number[] | undefined;
  readonly done: Promise<void>;

  constructor(
    private readonly owner: WorkerPool,
    pool: Tinypool,
  ) {
    const { port1, port2 } = new threads.MessageChannel();
    this.port = port1;
    port1.on("message", (message: FromWorker) => {
      this.lastHeard = Date.now();
      this.starting = false;
      this.idle = message.t === "alive" ? message.idle : undefined;
      owner.onMessage(this, message);
    });
    // A message the thread could send but this thread cannot read (a value nested thousands of levels deep overflows
    // the stack as it is copied in): its results are gone, so the thread's rows are dealt with as if it had died.
    port1.on("messageerror", (error: Error) => owner.onUnreadable(this, error));
    const task: SessionTask = { port: port2, sourceMaps: true };
    this.done = pool
      .run(task, { transferList: [port2], signal: this.stopper.signal })
      .then(
        () => undefined,
        (error: unknown) => owner.onSessionEnd(this, error),
      )
      .finally(() => port1.close());
  }

  send(message: ToWorker): void {
    if (!this.killed) this.port.postMessage(message);
  }

  queue(p: Pending, onUnclonable: (p: Pending, error: unknown) => void): void {
    if (this.pending.size === 0) this.lastHeard = Date.now();
    this.pending.set(p.id, p);
    this.outbox.push([p.id, p.evalKey, p.item]);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush(onUnclonable));
    }
  }

  private flush(onUnclonable: (p: Pending, error: unknown) => void): void {
    this.scheduled = false;
    const items = this.outbox;
    this.outbox = [];
    if (items.length === 0 || this.killed) return;
    try {
      this.port.postMessage({ t: "items", items } satisfies ToWorker);
    } catch {
      // Something in these rows cannot be cloned after all: send them one by one, keep the ones that can go.
      for (const entry of items) {
        try {
          this.port.postMessage({ t: "items", items: [entry] } satisfies ToWorker);
        } catch (error) {
          const p = this.pending.get(entry[0]);
          if (!p) continue;
          this.pending.delete(p.id);
          onUnclonable(p, error);
        }
      }
    }
  }

  /** Ends the thread at once (tinypool terminates a worker whose task is aborted); its tasks are gone. */
  kill(): void {
    this.killed = true;
    this.stopper.abort();
    this.releaseHeld();
  }

  releaseHeld(): void {
    for (const release of this.held.values()) release();
    this.held.clear();
    this.late.clear();
  }

  /** A slot held for a row whose result came back: until the thread says its task settled, or one more timeout. */
  hold(id: number, result: RowResult, timeout: number | undefined): void {
    let release!: () => void;
    holdSlot(result, new Promise<void>((resolve) => (release = resolve)));
    // Not unref'd: the next row waits on it, and this thread must not look idle meanwhile (see watchIdle).
    const timer = setTimeout(() => this.releaseSlot(id), (timeout ?? 0) + margin(timeout ?? 0));
    this.held.set(id, () => {
      clearTimeout(timer);
      release();
    });
    this.late.set(id, timeout);
  }

  private releaseSlot(id: number): void {
    const release = this.held.get(id);
    if (!release) return;
    release();
    this.held.delete(id);
    if (this.held.size === 0) this.owner.threadFreed();
  }

  settled(id: number): void {
    // Not late first: a freed thread may take a waiting suspect at once.
    this.late.delete(id);
    this.releaseSlot(id);
  }
}

/**
 * The worker pool: tinypool threads, each running one session that imports eval bundles itself and runs the items
 * this thread streams to it. Scheduling stays in the main thread (rows start only when a slot of the eval's
 * maxConcurrency and the global cap is free), so caps hold exactly however many threads there are.
 *
 * Hangs and crashes: a thread that stays silent past a pending row's timeout (a task blocking it) is terminated and
 * replaced, as is one that dies (out of memory, a crash). Its rows run again, each alone in a thread: the one that
 * blocks or kills its thread again is recorded as the cause, the others finish normally. No row is lost or run
 * twice to completion.
 */
export class WorkerPool {
  private readonly pool: Tinypool;
  private readonly loadFloorMs: number;
  private readonly sessions: Session[] = [];
  private readonly evals = new Map<string, PoolEval>();
  /** Rows waiting for a thread: suspects wait for an idle one, the rest while every thread runs a suspect. */
  private readonly waiting: Pending[] = [];
  private readonly watchdog: NodeJS.Timeout;
  private lastWatch = Date.now();
  /** This thread's MessagePorts besides the pool's, and how many each session adds (see nothingToWaitOn). */
  private readonly otherPorts: number;
  private readonly portsPerSession: number;
  private idleWatches = 0;
  private outputHandles: number | undefined;
  private onIdle: (() => void) | undefined;
  private nextId = 1;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Said once each; the runner shows them after the run. */
  readonly notices: string[] = [];
  /** Errors from user code in a worker that no row could be blamed for. */
  readonly strays: RowError[] = [];

  /** Use startWorkerPool, which loads what the threads need first. */
  constructor(options: PoolOptions) {
    this.otherPorts = countPorts();
    this.loadFloorMs = options.loadFloorMs ?? LOAD_FLOOR_MS;
    this.pool = new threads.Tinypool({
      filename: options.filename,
      minThreads: options.workers,
      maxThreads: options.workers,
      concurrentTasksPerWorker: 1,
      isolateWorkers: false,
      idleTimeout: 60_000,
      ...(options.heapMb ? { resourceLimits: { maxOldGenerationSizeMb: options.heapMb } } : {}),
    });
    for (let i = 0; i < options.workers; i++) this.addSession();
    // Tinypool opens its threads' channels as it is made, as the sessions do theirs; NaN (never idle) otherwise.
    const added = countPorts() - this.otherPorts;
    this.portsPerSession = added % options.workers === 0 ? added / options.workers : Number.NaN;
    this.watchdog = setInterval(() => this.watch(), WATCH_EVERY_MS);
    this.watchdog.unref();
  }

  /**
   * Called when the whole process has nothing to wait on (see watchIdle): what the main thread waits for can never
   * come. Node's `beforeExit` says this when no thread is left, but the pool's threads keep the process alive.
   */
  whenIdle(listener: () => void): void {
    this.onIdle = listener;
  }

  private addSession(): Session {
    const s = new Session(this, this.pool);
    for (const ev of this.evals.values()) if (!ev.inProcess) s.send({ t: "eval", address: ev.address });
    this.sessions.push(s);
    return s;
  }

  /** The Execute function for one eval: its rows go to the threads, or run in this thread with `local`. */
  register(address: EvalAddress, local: Execute): Execute {
    const ev: PoolEval = { address, local, inProcess: false };
    this.evals.set(address.key, ev);
    // Threads start importing the eval's bundle now, so its first rows do not wait for it.
    for (const s of this.sessions) s.send({ t: "eval", address });
    return (item) => {
      // Every row is looked at, not only the first: structured cloning does not fail on a class instance, it
      // sends its data without its methods, so a later row of another kind would silently reach the task changed.
      if (!ev.inProcess) {
        let problem: string | undefined;
        try {
          problem = cloneProblem(item.row, `row ${item.rowIndex}`);
        } catch {
          // A getter in the row threw while it was looked over: the main thread records that row's error.
          problem = `row ${item.rowIndex} holds a value whose getter throws`;
        }
        if (problem) this.runHere(ev, `${problem}, which cannot be sent to a worker thread`);
      }
      if (ev.inProcess || this.closed) return ev.local(item);
      return new Promise<RowResult | undefined>((resolve) => {
        this.place({
          id: this.nextId++,
          evalKey: address.key,
          item,
          resolve,
          started: Date.now(),
          timeout: address.timeout,
          suspect: false,
          isolated: false,
        });
      });
    };
  }

  private runHere(ev: PoolEval, why: string): void {
    if (ev.inProcess) return;
    ev.inProcess = true;
    this.notices.push(`Eval "${ev.address.name}": ${why}; it runs in the main thread instead.`);
  }

  /** Puts a row in a thread: a suspect alone in an idle one, any other in the least busy non-exclusive one. */
  private place(p: Pending): void {
    const ev = this.evals.get(p.evalKey);
    if (!ev || ev.inProcess || this.closed) {
      p.resolve(ev ? ev.local(p.item) : undefined);
      return;
    }
    let target: Session | undefined;
    for (const s of this.sessions) {
      if (s.exclusive || s.draining) continue;
      // A suspect runs alone to be judged by what its thread does: not beside a timed-out row's late task, which
      // could block the thread and have it blamed.
      if (
        p.suspect
          ? s.pending.size === 0 && s.late.size === 0
          : !target || s.pending.size < target.pending.size
      )
        target = s;
      if (p.suspect && target) break;
    }
    if (p.suspect && !target) {
      // A thread whose late tasks have outlived their slots' hold is replaced for it (the run waits for no such
      // task); one still within the hold is waited for (threadFreed).
      const stale = this.sessions.find(
        (s) => !s.exclusive && !s.draining && s.pending.size === 0 && s.held.size === 0,
      );
      if (stale) target = this.replace(stale);
    }
    if (!target) {
      this.waiting.push(p);
      return;
    }
    if (p.suspect) {
      target.exclusive = true;
      p.isolated = true;
      // Its time is this run alone: counting the first attempt too made a 700 ms timeout read 2.2 s.
      p.started = Date.now();
    }
    target.queue(p, (q, error) => this.cannotClone(q, error));
  }

  /** A thread's last held slot was given back: a suspect waiting for a thread may go there now. */
  threadFreed(): void {
    if (this.waiting.length > 0 && !this.closed) this.drain();
  }

  /** Places waiting rows after a thread became free or was replaced. */
  private drain(): void {
    const rows = this.waiting.splice(0);
    rows.sort((a, b) => Number(b.suspect) - Number(a.suspect));
    for (const p of rows) this.place(p);
  }

  onMessage(s: Session, message: FromWorker): void {
    if (message.t === "results") {
      for (const [id, result, held] of message.results) {
        const p = s.pending.get(id);
        if (!p) continue;
        s.pending.delete(id);
        if (held && result) s.hold(id, result, p.timeout);
        p.resolve(result ?? undefined);
      }
      if (s.exclusive && s.pending.size === 0) s.exclusive = false;
      if (this.waiting.length > 0) this.drain();
    } else if (message.t === "load-error") {
      const ev = this.evals.get(message.evalKey);
      if (!ev) return;
      this.runHere(ev, `its file failed to load in a worker thread (${message.message})`);
      for (const p of [...s.pending.values()]) {
        if (p.evalKey !== message.evalKey) continue;
        s.pending.delete(p.id);
        p.resolve(ev.local(p.item));
      }
    } else if (message.t === "settled") {
      for (const id of message.ids) s.settled(id);
    } else if (message.t === "stray") {
      this.strays.push(message.error);
    } else if (message.t === "loading") {
      s.loading = message.on ? { bundle: message.bundle, since: Date.now() } : undefined;
      if (!message.on) s.loaded.add(message.bundle);
    }
  }

  private cannotClone(p: Pending, error: unknown): void {
    const ev = this.evals.get(p.evalKey);
    if (!ev) return;
    const detail = cloneProblem(p.item.row, `row ${p.item.rowIndex}`) ?? (error as Error).message;
    this.runHere(ev, `${detail}, which cannot be sent to a worker thread`);
    p.resolve(ev.local(p.item));
  }

  /** Stops threads that have been silent longer than the timeout of a row they hold. */
  private watch(): void {
    const now = Date.now();
    const late = now - this.lastWatch > 3 * WATCH_EVERY_MS;
    this.lastWatch = now;
    if (late) {
      // This thread was busy (a synchronous task of an eval it runs itself): the threads' heartbeats wait unread
      // in its queue, so silence now says nothing about them. They get a fresh start.
      for (const s of this.sessions) s.lastHeard = now;
      return;
    }
    for (const s of [...this.sessions]) {
      if (!this.sessions.includes(s)) continue;
      if (s.draining && s.pending.size === 0) {
        this.replace(s);
        this.drain();
        continue;
      }
      if (s.loading && !s.draining) {
        const limit = this.loadLimitOf(s.loading.bundle);
        if (now - s.loading.since > limit) this.loadNeverEnded(s.loading.bundle, limit);
        continue;
      }
      let limit = s.starting ? BOOT_LIMIT_MS : Number.POSITIVE_INFINITY;
      if (!s.starting) {
        let untimed = false;
        for (const p of s.pending.values())
          if (p.timeout !== undefined) limit = Math.min(limit, p.timeout + margin(p.timeout));
          else untimed = true;
        // A timed-out row's task that went on to block the thread. Rows with a timeout judge the silence by theirs
        // (a late task only awaiting must not cut another row's sync step short); beside rows with none it is
        // judged by a generous bound, and alone by its own timeout.
        if (s.pending.size === 0 || untimed)
          for (const timeout of s.late.values())
            if (timeout !== undefined) {
              const own = timeout + margin(timeout);
              limit = Math.min(limit, s.pending.size === 0 ? own : Math.max(own, UNTIMED_LATE_MS));
            }
      }
      if (now - s.lastHeard > limit) this.lost(s, "blocked");
    }
    this.watchIdle();
  }

  private loadLimitOf(bundle: string): number {
    let mainMs = 0;
    for (const ev of this.evals.values())
      if (ev.address.bundle === bundle) mainMs = Math.max(mainMs, ev.address.loadMs ?? 0);
    return Math.max(this.loadFloorMs, 4 * mainMs);
  }

  /**
   * An eval file's import has not ended in a thread within its limit: its evals run in the main thread, where the
   * file has loaded, with their rows waiting in those threads. A thread blocked in the import (silent) is replaced
   * and its other rows, which cannot go on, run again; one that only awaits takes no new rows and is replaced once
   * the rows it runs have ended (an import cannot be cancelled).
   */
  private loadNeverEnded(bundle: string, limit: number): void {
    for (const ev of this.evals.values())
      if (ev.address.bundle === bundle)
        this.runHere(
          ev,
          `its file did not finish loading in a worker thread within ${limit / 1000} s (its top-level code blocks there, or awaits what only the main thread settles; EVALRUN_WORKER_LOAD_MS allows longer)`,
        );
    const now = Date.now();
    for (const s of [...this.sessions]) {
      if (s.loading?.bundle !== bundle || s.draining) continue;
      for (const p of [...s.pending.values()]) {
        const ev = this.evals.get(p.evalKey);
        if (ev?.inProcess) {
          s.pending.delete(p.id);
          p.resolve(ev.local(p.item));
        } else if (now - s.lastHeard < BLOCKED_AFTER_MS && ev && !s.loaded.has(ev.address.bundle)) {
          // Its file's import waits behind the one that never ends (a thread imports one file at a time).
          s.pending.delete(p.id);
          this.waiting.push(p);
        }
      }
      if (now - s.lastHeard < BLOCKED_AFTER_MS) {
        s.draining = true;
        continue;
      }
      const rows = [...s.pending.values()];
      s.pending.clear();
      this.replace(s);
      // Each alone, to tell a row that blocked the thread from the import (which counts as blocked otherwise).
      for (const p of rows) {
        p.suspect = true;
        this.waiting.push(p);
      }
    }
    this.drain();
  }

  /** A thread stopped (with the late tasks it ran) and replaced by a fresh one; its rows are the caller's. */
  private replace(s: Session): Session {
    this.sessions.splice(this.sessions.indexOf(s), 1);
    s.kill();
    return this.addSession();
  }

  /**
   * Rows in threads that have nothing to wait on, while this thread has nothing either but the pool's ports: nothing
   * anywhere can settle them, or anything this thread waits on (an eval's data, its own rows). Judged over three
   * watches in a row; then the listener records what this thread waits on, and those threads' rows are recorded as
   * never finished, the threads replaced.
   */
  private watchIdle(): void {
    const stuck: Session[] = [];
    // Rows waiting for a thread wait on the stuck ones: those are judged all the same (a row that never settles,
    // run alone after a block, left the others waiting for good), but only threads' rows are recorded then.
    let idle = this.onIdle !== undefined;
    for (const s of this.sessions) {
      if (!idle) break;
      if (s.pending.size === 0) continue;
      // A draining thread's import never ends, and what it still runs is judged as any thread's. Its list may name
      // rows moved out of it, which wait on that import there.
      const idleRows = s.idle;
      if (
        s.starting ||
        (s.loading !== undefined && !s.draining) ||
        idleRows === undefined ||
        ![...s.pending.keys()].every((id) => idleRows.includes(id))
      )
        idle = false;
      else stuck.push(s);
    }
    const waiting = this.waiting.length > 0;
    if (!idle || (waiting && stuck.length === 0) || !this.nothingToWaitOn()) {
      this.idleWatches = 0;
      return;
    }
    if (++this.idleWatches < 3) return;
    this.idleWatches = 0;
    // The listener records every row in flight in this thread's view, waiting ones too: not while some wait.
    if (!waiting) this.onIdle?.();
    for (const s of stuck) this.lost(s, "stalled");
  }

  /**
   * Only the pool's own MessagePorts keep this thread's event loop alive (the watchdog is unref'd). stdout and
   * stderr on a terminal or a pipe are listed too, though they wait on nothing; one more such handle (stdin being
   * read, a socket) is not allowed.
   */
  private nothingToWaitOn(): boolean {
    let ports = 0;
    let streams = 0;
    for (const resource of process.getActiveResourcesInfo()) {
      if (resource === "MessagePort") ports++;
      else if (resource === "TTYWrap" || resource === "PipeWrap") streams++;
      else return false;
    }
    this.outputHandles ??= outputHandles();
    return (
      streams <= this.outputHandles && ports <= this.otherPorts + this.portsPerSession * this.sessions.length
    );
  }

  onUnreadable(s: Session, error: Error): void {
    if (s.killed) return;
    this.lost(s, `${UNREADABLE} (${describeCrash(error)})`);
  }

  /** Called when a session's task ends with an error: the thread died, or was stopped here. */
  onSessionEnd(s: Session, error: unknown): void {
    if (s.killed) return;
    this.lost(s, describeCrash(error));
  }

  /**
   * A thread is gone (stopped because it was blocked or stalled, or died): replace it and deal with its rows. A
   * stalled thread's rows are recorded as never finished (the engine has usually done so already, told by onIdle).
   */
  private lost(s: Session, reason: "blocked" | "stalled" | string): void {
    const i = this.sessions.indexOf(s);
    if (i < 0) return;
    this.sessions.splice(i, 1);
    s.kill();
    const rows = [...s.pending.values()];
    s.pending.clear();
    if (this.closed) {
      for (const p of rows) p.resolve(undefined);
      return;
    }
    this.addSession();
    if (reason === "stalled") {
      for (const p of rows)
        p.resolve(failedResult(p.item, { kind: "task", message: NEVER_SETTLED }, p.started));
      this.drain();
      return;
    }
    if (reason !== "blocked") {
      // A row that was alone in its thread (already run again once) is recorded as an error, not run again.
      const again = rows.filter((p) => !p.isolated).length;
      const failed = rows.length - again;
      const outcome = [
        again > 0 ? `${again} row(s) it held run again, each alone in a thread` : "",
        failed > 0 ? `${failed} row(s) that had killed a thread before are recorded as errors` : "",
      ]
        .filter(Boolean)
        .join("; ");
      this.notices.push(`A worker thread stopped (${reason})${outcome ? `: ${outcome}` : ""}.`);
    }
    for (const p of rows) {
      if (!p.isolated) {
        p.suspect = true;
        this.waiting.push(p);
        continue;
      }
      const failure: RowError =
        reason === "blocked"
          ? {
              kind: "timeout",
              message: `Timed out after ${p.timeout} ms; its task or a scorer kept its worker thread busy (synchronous code that did not yield), so the thread was stopped and replaced.`,
            }
          : reason.startsWith(UNREADABLE)
            ? {
                kind: "task",
                message: `Its result could not be copied out of its worker thread, twice: ${reason}. A value nested thousands of levels deep cannot cross threads; return a flatter value, or run this eval with --workers 0.`,
              }
            : { kind: "task", message: `Its worker thread died while running it, twice: ${reason}` };
      p.resolve(failedResult(p.item, failure, p.started));
    }
    this.drain();
  }

  /** Drops every row still running (the run was interrupted and the grace period is over). */
  stopAll(): void {
    this.closed = true;
    for (const p of this.waiting.splice(0)) p.resolve(undefined);
    for (const s of [...this.sessions]) this.lost(s, "stopped");
  }

  /** Ends every thread once its rows are done; later calls wait for the same close. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    clearInterval(this.watchdog);
    // Ended, not asked: a draining thread may never finish its stuck import, and one running a timed-out row's late
    // task may be blocked by it (the run does not wait for such tasks).
    for (const s of this.sessions)
      if (s.draining || s.late.size > 0) s.kill();
      else s.send({ t: "close" });
    // A thread kept busy by what eval code left behind (a timer's loop) would never answer: it is given a moment.
    let waited: NodeJS.Timeout | undefined;
    const moment = new Promise<void>((resolve) => {
      waited = setTimeout(resolve, CLOSE_WAIT_MS);
    });
    await Promise.race([Promise.all(this.sessions.map((s) => s.done)), moment]);
    clearTimeout(waited);
    for (const s of this.sessions) if (!s.killed) s.kill();
    await Promise.all(this.sessions.map((s) => s.done));
    await this.pool.destroy();
  }
}

export async function startWorkerPool(options: PoolOptions): Promise<WorkerPool> {
  if (!threads) {
    const [{ default: Tinypool }, { MessageChannel }] = await Promise.all([
      import("tinypool"),
      import("node:worker_threads"),
    ]);
    threads = { Tinypool, MessageChannel };
  }
  return new WorkerPool(options);
}

/** How many of stdout and stderr are a terminal or a pipe: each has a handle that Node lists as active. */
function outputHandles(): number {
  let handles = 0;
  // The streams' own isTTY, not node:tty's isatty: importing node:tty loads node:net, ~15 ms of every start.
  for (const [fd, stream] of [
    [1, process.stdout],
    [2, process.stderr],
  ] as const) {
    try {
      const stat = fstatSync(fd);
      if (stream.isTTY === true || stat.isFIFO() || stat.isSocket()) handles++;
    } catch {
      // Closed: no handle.
    }
  }
  return handles;
}

function countPorts(): number {
  let ports = 0;
  for (const resource of process.getActiveResourcesInfo()) if (resource === "MessagePort") ports++;
  return ports;
}

const UNREADABLE = "a result it sent could not be read in the main thread";

function describeCrash(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: string }).code;
  return code ? `${code}: ${error.message}` : error.message;
}
