import type { Writable } from "node:stream";
import type { MultiBar, SingleBar } from "cli-progress";
import type { EvalInfo } from "../engine/types.js";
import type { Colors } from "./colors.js";

export interface Progress {
  readonly active: boolean;
  start(evals: EvalInfo[]): void;
  setTotal(ev: EvalInfo, total: number): void;
  tick(ev: EvalInfo, errored: boolean): void;
  finish(ev: EvalInfo): void;
  /** Prints above the bars while they are drawn. */
  log(text: string): void;
  stop(): void;
}

interface BarState {
  bar: SingleBar;
  total: number | undefined;
  done: number;
  errors: number;
  /** Rows counted since the bar was last told (see SYNC_MS). */
  dirty: boolean;
}

/**
 * Bars are told their counts on a timer, not at each row: cli-progress draws 10 times a second anyway, and an update
 * a row (a payload object, a merge, an event) cost a 100,000-row run in a terminal 0.1-0.25 s.
 */
const SYNC_MS = 100;

/** One bar per eval on a terminal (cli-progress); loaded only when progress is shown. */
export async function createProgress(stream: Writable, colors: Colors): Promise<Progress> {
  const { MultiBar: MultiBarClass } = (await import("cli-progress")).default;
  let multi: MultiBar | undefined;
  const bars = new Map<string, BarState>();
  let width = 10;
  let syncTimer: NodeJS.Timeout | undefined;

  const payload = (s: BarState) => ({ done: s.done, errors: s.errors, known: s.total !== undefined });
  const sync = (s: BarState) => {
    if (!s.dirty) return;
    s.dirty = false;
    if (s.total === undefined) s.bar.setTotal(s.done + 1);
    s.bar.update(s.done, payload(s));
  };
  const syncAll = () => {
    for (const s of bars.values()) sync(s);
  };

  return {
    get active() {
      return multi !== undefined;
    },
    start(evals) {
      if (evals.length === 0) return;
      width = Math.min(30, Math.max(...evals.map((e) => e.name.length)));
      multi = new MultiBarClass(
        {
          stream: stream as NodeJS.WriteStream,
          hideCursor: true,
          clearOnComplete: true,
          stopOnComplete: false,
          barsize: 24,
          fps: 10,
          format: (options, params, data: { name: string; done: number; errors: number; known: boolean }) => {
            const name =
              data.name.length > width ? `${data.name.slice(0, width - 1)}…` : data.name.padEnd(width);
            const errors = data.errors > 0 ? colors.red(` · ${data.errors} errors`) : "";
            if (!data.known) return `${name}  ${data.done} rows${errors}`;
            const size = options.barsize ?? 24;
            const filled = Math.round(params.progress * size);
            const bar = "█".repeat(filled) + colors.dim("░".repeat(size - filled));
            return `${name}  ${bar} ${data.done}/${params.total}${errors}`;
          },
        },
        { barCompleteChar: "█", barIncompleteChar: "░", format: "" },
      );
      for (const ev of evals) {
        const bar = multi.create(1, 0, { name: ev.name, done: 0, errors: 0, known: false });
        bars.set(ev.name, { bar, total: undefined, done: 0, errors: 0, dirty: false });
      }
      // cli-progress redraws on a timer that keeps the event loop alive, so Node never said that nothing was left
      // to wait on (engine/stalls.ts): in a terminal, a row that could never finish hung the run.
      const bars_ = multi as unknown as {
        timer?: NodeJS.Timeout;
        on(event: string, listener: () => void): void;
      };
      const unrefRedraw = () => bars_.timer?.unref();
      bars_.on("update-post", unrefRedraw);
      unrefRedraw();
      syncTimer = setInterval(syncAll, SYNC_MS);
      syncTimer.unref();
    },
    setTotal(ev, total) {
      const s = bars.get(ev.name);
      if (!s) return;
      s.total = total;
      s.bar.setTotal(Math.max(1, total));
      s.dirty = false;
      s.bar.update(s.done, payload(s));
    },
    tick(ev, errored) {
      const s = bars.get(ev.name);
      if (!s) return;
      s.done++;
      if (errored) s.errors++;
      s.dirty = true;
    },
    finish(ev) {
      const s = bars.get(ev.name);
      if (!s || !multi) return;
      multi.remove(s.bar);
      bars.delete(ev.name);
    },
    log(text) {
      // The text lands where bars were drawn: clear each line first, or a bar's tail shows after it.
      multi?.log(text.replace(/^/gm, "\x1b[2K"));
    },
    stop() {
      clearInterval(syncTimer);
      syncAll();
      // Draw once more so summaries still waiting in cli-progress's log buffer are written before the bars go.
      multi?.update();
      multi?.stop();
      multi = undefined;
    },
  };
}
