import { errorLine } from "../define/errors.js";
import { exitNow, newSignals } from "../engine/exit-guard.js";
import { watchForStalls } from "../engine/stall-notice.js";
import { colorsFor } from "../report/colors.js";
import { stackLocation } from "../report/format.js";
import { reserveStdout, stdoutStream } from "../report/stdout.js";
import type { RunEvalsOptions } from "../runner/options.js";
import { listenForKeys } from "./keys.js";
import { ScreenView } from "./screen-view.js";
import { WatchSession } from "./session.js";
import { JsonlView, LogView, type WatchView } from "./views.js";

export interface WatchFlags {
  jsonl: boolean;
  verbose: boolean;
}

/**
 * `evalrun --watch`: runs until `q`, Ctrl-C, SIGTERM or SIGHUP, then stops every run (stored as interrupted), esbuild
 * and the watchers. Resolves to the exit code: 0 after `q`, 130 after Ctrl-C; throws the EvalrunError of flags
 * that cannot work (a bad --filter, a path that does not exist), after cleaning up.
 */
export async function watchCommand(options: RunEvalsOptions, flags: WatchFlags): Promise<number> {
  const cwd = process.cwd();
  // Keys need a terminal to read from; a pipe is read only when asked (editor integrations, tests).
  const keys = process.stdin.isTTY === true || process.env.EVALRUN_WATCH_KEYS === "1";
  const screen = !flags.jsonl && process.stdout.isTTY === true;
  const base = { cwd, verbose: flags.verbose, keys };
  let session: WatchSession | undefined;
  let view: WatchView;
  // With --jsonl, stdout holds the summary lines alone: eval code's logs go to stderr (report/stdout.ts).
  const releaseStdout = flags.jsonl ? reserveStdout() : () => {};
  if (flags.jsonl) {
    view = new JsonlView(stdoutStream(), process.stderr, { ...base, colors: colorsFor(process.stderr) });
  } else if (screen) {
    const snapshot = () => session?.snapshot() ?? { evals: [], problems: [], busy: true };
    view = new ScreenView(process.stdout, snapshot, { ...base, colors: colorsFor(process.stdout) });
  } else {
    view = new LogView(process.stdout, { ...base, colors: colorsFor(process.stdout) });
  }
  session = new WatchSession({ options: { ...options, cwd }, view, verbose: flags.verbose });
  const running = session;

  // An error that escapes eval code (a promise nobody awaited, a throw in a timer) must not end the session.
  const onStray = (error: unknown) => {
    const text = errorLine(error);
    const where = error instanceof Error ? stackLocation(error.stack, cwd) : undefined;
    view.note(`✘ [UNHANDLED] An error escaped the eval code${where ? ` at ${where}` : ""}: ${text}`);
  };
  process.on("unhandledRejection", onStray);
  process.on("uncaughtException", onStray);

  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });
  let quitting: number | undefined;
  let stopKeys: (() => void) | undefined;
  const isNew = newSignals();
  const quit = (code: number) => {
    if (code === 130 && !isNew()) return;
    if (quitting !== undefined) {
      // A second Ctrl-C while stopping: leave at once.
      if (code === 130) exitNow(130);
      return;
    }
    quitting = code;
    stopKeys?.();
    void running
      .stop()
      .catch((error: unknown) => view.note(`while stopping: ${(error as Error).message}`))
      .finally(() => {
        view.note("Stopped watching.");
        finish(code);
      });
  };
  const onSigint = () => quit(130);
  const onSigterm = () => quit(143);
  // The terminal closed: stopped as a run is (its experiment stored as interrupted), where Node's default ended the
  // process and left it `running`.
  const onSighup = () => quit(129);
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigterm);
  process.on("SIGHUP", onSighup);
  // A terminal's keys are read in raw mode, where Ctrl-C and Ctrl-\ are bytes the blocked thread never reads.
  const stalls = watchForStalls({ rawKeys: keys && process.stdin.isTTY === true });
  if (keys) {
    stopKeys = listenForKeys(process.stdin, (action) => {
      if (action === "rerun-all") running.rerunAll();
      else if (action === "rerun-failing") running.rerunFailing();
      else quit(action === "quit" ? 0 : 130);
    });
  }
  try {
    // Quitting ends the session even while its first cycle is stuck (an eval file's top-level await that never
    // ends keeps start() pending).
    const started = running.start();
    started.catch(() => {});
    return await Promise.race([started.then(() => finished), finished]);
  } catch (error) {
    stopKeys?.();
    await running.stop().catch(() => {});
    throw error;
  } finally {
    stalls();
    view.close();
    releaseStdout();
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigterm);
    process.off("SIGHUP", onSighup);
    process.off("unhandledRejection", onStray);
    process.off("uncaughtException", onStray);
  }
}
