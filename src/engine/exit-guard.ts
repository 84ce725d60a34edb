/**
 * process.exit() called by eval code (a task, a scorer, a file's top level) must end what called it, not the run:
 * the rows already finished would be lost unsaved and the summary never printed. While a guard is on, process.exit
 * throws ExitCalled instead, which the engine records like any other error; evalrun's own exits use exitNow().
 */

export class ExitCalled extends Error {
  constructor(readonly code: unknown) {
    super(
      `process.exit(${code === undefined ? "" : String(code)}) was called; under evalrun it ends this row, not the run`,
    );
    this.name = "ProcessExit";
  }
}

let guards = 0;
let nodeExit: typeof process.exit | undefined;

/** Turns process.exit into a throw until the returned function is called (guards nest). */
export function guardExit(): () => void {
  if (guards++ === 0) {
    nodeExit = process.exit;
    process.exit = ((code?: number | string | null) => {
      throw new ExitCalled(code);
    }) as typeof process.exit;
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--guards === 0 && nodeExit) {
      process.exit = nodeExit;
      nodeExit = undefined;
    }
  };
}

/** Ends the process now, guard or not (a second Ctrl-C). */
export function exitNow(code: number): never {
  return (nodeExit ?? process.exit).call(process, code);
}

/**
 * Tells a new Ctrl-C from one signal delivered twice. `timeout` and other supervisors signal a process and its
 * process group, so the same SIGINT can arrive twice within a millisecond; taken for a second Ctrl-C, it ended the
 * run at once, without its summary. The returned function is true for a signal, false for an echo of the last one.
 */
export function newSignals(echoMs = 250): () => boolean {
  let last = Number.NEGATIVE_INFINITY;
  return () => {
    const now = performance.now();
    const fresh = now - last >= echoMs;
    last = now;
    return fresh;
  };
}
