import type { Writable } from "node:stream";
import type { Problem } from "../loader/problems.js";
import { formatProblem } from "../report/problems.js";
import { type BlockOptions, evalBlock } from "./format-block.js";
import type { EvalState } from "./state.js";

/** What a watch session says, as it happens. The screen redraws from the session's state; a log appends. */
export interface WatchView {
  /** Something shown changed (progress, a status); a log has nothing to add. */
  refresh(): void;
  /** Why a round of runs starts: `evals/x.ts changed: re-running x`. */
  trigger(text: string): void;
  finished(ev: EvalState): void;
  /** A run was stopped before its end (a newer change, quitting): none of it is shown as a result. */
  interrupted(ev: EvalState, why: string): void;
  removed(name: string, why: string): void;
  problem(problem: Problem): void;
  note(text: string): void;
  /** Every run has finished and nothing is queued. */
  idle(): void;
  close(): void;
}

export interface ViewOptions extends BlockOptions {
  /** Whether r, f and q are read (said in the idle line). */
  keys: boolean;
}

export const KEYS_HELP = "r re-run all · f re-run failing rows · q quit";

/** Plain appended blocks: for logs, pipes and tests. No screen clearing. */
export class LogView implements WatchView {
  constructor(
    protected readonly out: Writable,
    protected readonly o: ViewOptions,
  ) {}

  protected print(text: string): void {
    this.out.write(`${text}\n`);
  }

  refresh(): void {}

  trigger(text: string): void {
    this.print(`${this.o.colors.cyan("»")} ${text}`);
  }

  finished(ev: EvalState): void {
    this.print(evalBlock(ev, this.o));
  }

  interrupted(ev: EvalState, why: string): void {
    this.print(`${this.o.colors.yellow("■")} ${this.o.colors.bold(ev.name)} ${why}`);
  }

  removed(name: string, why: string): void {
    this.print(`${this.o.colors.dim("−")} ${this.o.colors.bold(name)} ${why}`);
  }

  problem(problem: Problem): void {
    this.print(formatProblem(problem, this.o.cwd, this.o.colors, this.o.verbose));
  }

  note(text: string): void {
    this.print(`  ${text}`);
  }

  idle(): void {
    this.print(this.o.colors.dim(`Waiting for changes…${this.o.keys ? ` (${KEYS_HELP})` : ""}`));
  }

  close(): void {}
}

/** `--jsonl`: one summary line per finished run on stdout, everything else (the log) on stderr. */
export class JsonlView extends LogView {
  constructor(
    private readonly json: Writable,
    err: Writable,
    o: ViewOptions,
  ) {
    super(err, o);
  }

  override finished(ev: EvalState): void {
    if (ev.last) this.json.write(`${JSON.stringify(ev.last.summary)}\n`);
  }
}
