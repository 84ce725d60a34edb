import type { Problem } from "../loader/problems.js";
import { plural, shownPath } from "../report/format.js";
import { formatProblem } from "../report/problems.js";
import { evalBlock } from "./format-block.js";
import type { EvalState } from "./state.js";
import { KEYS_HELP, type ViewOptions, type WatchView } from "./views.js";

export interface ScreenState {
  /** Evals currently defined, in file order. */
  evals: EvalState[];
  /** Config and file problems (compile, load), shown above the evals until fixed. */
  problems: Problem[];
  busy: boolean;
}

/** Redraws at most this often while rows stream in. */
const FRAME_MS = 80;
const ACTIVITY_LINES = 5;
const CLEAR = "\x1b[H\x1b[2J";
const HOME = "\x1b[H";
/** Clears the rest of a line / everything below the cursor. */
const CLEAR_LINE = "\x1b[K";
const CLEAR_BELOW = "\x1b[J";
// biome-ignore lint/suspicious/noControlCharactersInRegex: colour escapes do not take up columns.
const ANSI = /\x1b\[[0-9;]*m/g;

/** The terminal screen: cleared and redrawn from the session's state, one block per eval, recent activity below. */
export class ScreenView implements WatchView {
  private readonly activity: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private drawnAt = 0;
  private drawn = false;
  private readonly onResize = () => this.schedule();

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly state: () => ScreenState,
    private readonly o: ViewOptions,
  ) {
    out.on("resize", this.onResize);
  }

  refresh(): void {
    this.schedule();
  }

  trigger(text: string): void {
    this.log(`${this.o.colors.cyan("»")} ${text}`);
  }

  finished(): void {
    this.schedule();
  }

  interrupted(ev: EvalState, why: string): void {
    this.log(`${this.o.colors.yellow("■")} ${ev.name} ${why}`);
  }

  removed(name: string, why: string): void {
    this.log(`− ${name} ${why}`);
  }

  problem(problem: Problem): void {
    // Shown in full above the evals while it lasts (a file's, the config's); the log keeps a line of it.
    const where = problem.line !== undefined ? `:${problem.line}:${problem.column ?? 0}` : "";
    this.log(
      `${this.o.colors.red("✘")} ${shownPath(problem.file, this.o.cwd)}${where} [${problem.code}] ${problem.message.split("\n")[0]}`,
    );
  }

  note(text: string): void {
    this.log(text);
  }

  idle(): void {
    this.schedule();
  }

  private log(text: string): void {
    const time = new Date().toTimeString().slice(0, 8);
    this.activity.push(`${this.o.colors.dim(time)} ${text}`);
    if (this.activity.length > ACTIVITY_LINES) this.activity.shift();
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.drawnAt + FRAME_MS - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, wait);
  }

  draw(): void {
    this.drawnAt = performance.now();
    const c = this.o.colors;
    const s = this.state();
    const status = s.busy ? c.cyan("running") : "waiting for changes";
    const head = [
      `${c.bold("evalrun --watch")}  ${c.dim(`${plural(s.evals.length, "eval")} ·`)} ${status}`,
      "",
    ];
    const body: string[] = [];
    for (const p of s.problems) body.push(formatProblem(p, this.o.cwd, c, this.o.verbose), "");
    for (const ev of s.evals) body.push(evalBlock(ev, this.o), "");
    const tail: string[] = [];
    if (this.activity.length > 0) tail.push(...this.activity, "");
    if (this.o.keys) tail.push(c.dim(KEYS_HELP));
    const lines = this.fit(head, body.join("\n").split("\n"), tail.join("\n").split("\n"));
    // Overwritten in place, line by line, rather than cleared first: a redraw while rows stream in must not flicker.
    const text = lines.join(`${CLEAR_LINE}\n`);
    this.out.write(`${this.drawn ? HOME : CLEAR}${text}${CLEAR_LINE}\n${CLEAR_BELOW}`);
    this.drawn = true;
  }

  /**
   * The frame cut to the terminal's height: a frame taller than the screen scrolls, and every redraw would push a
   * whole copy into the scrollback and leave the status line and the latest activity out of sight. The evals'
   * blocks give way first, with a line saying how much is hidden.
   */
  private fit(head: string[], body: string[], tail: string[]): string[] {
    const rows = this.out.rows;
    const columns = Math.max(20, this.out.columns ?? 80);
    // A line wider than the terminal takes several rows.
    const height = (line: string) => Math.max(1, Math.ceil(line.replace(ANSI, "").length / columns));
    const sum = (lines: string[]) => lines.reduce((n, line) => n + height(line), 0);
    const all = [...head, ...body, ...tail];
    if (!rows || sum(all) < rows) return all;
    const room = rows - 1 - sum(head) - sum(tail) - 1;
    const shown: string[] = [];
    let used = 0;
    for (const line of body) {
      if (used + height(line) > room) break;
      shown.push(line);
      used += height(line);
    }
    const hidden = body.length - shown.length;
    return [
      ...head,
      ...shown,
      this.o.colors.dim(`… ${plural(hidden, "more line")} (a taller window shows every eval)`),
      ...tail,
    ];
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.out.off("resize", this.onResize);
    this.draw();
  }
}
