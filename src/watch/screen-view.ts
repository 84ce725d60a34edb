import type { Problem } from "../loader/problems.js";
import { plural, shownPath } from "../report/format.js";
import { formatProblem } from "../report/problems.js";
import { printable } from "../report/safe-text.js";
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
/** Lines of what eval code printed (console.log of a model's answer) kept on screen. */
const OUTPUT_LINES = 8;
const CLEAR = "\x1b[H\x1b[2J";
const HOME = "\x1b[H";
/** Clears the rest of a line / everything below the cursor. */
const CLEAR_LINE = "\x1b[K";
const CLEAR_BELOW = "\x1b[J";
// biome-ignore lint/suspicious/noControlCharactersInRegex: colour escapes do not take up columns.
const ANSI = /\x1b\[[0-9;]*m/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above.
const COLOUR_AT_START = /^\x1b\[[0-9;]*m/;

/** The terminal screen: cleared and redrawn from the session's state, one block per eval, recent activity below. */
export class ScreenView implements WatchView {
  private readonly activity: string[] = [];
  /** The last lines eval code wrote to stdout or stderr: the next frame would wipe them off the screen. */
  private readonly output: string[] = [];
  private partial = "";
  private timer: NodeJS.Timeout | undefined;
  private drawnAt = 0;
  private drawn = false;
  private readonly onResize = () => this.schedule();
  private readonly write: (text: string) => void;
  private closing = false;
  private readonly restore: () => void;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly state: () => ScreenState,
    private readonly o: ViewOptions,
  ) {
    out.on("resize", this.onResize);
    // Everything else written to the terminal (a task's console.log, a worker thread's, a warning) is kept and
    // shown in the frame, instead of being printed where the next redraw overwrites it within 80 ms.
    const streams = [process.stdout, process.stderr] as const;
    const originals = streams.map((stream) => stream.write);
    const own = originals[streams.indexOf(out as typeof process.stdout)] ?? out.write;
    this.write = (text) => {
      own.call(out, text);
    };
    for (const stream of streams) {
      stream.write = ((chunk: unknown, encoding?: unknown, done?: unknown) => {
        this.captured(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
        const callback = typeof encoding === "function" ? encoding : done;
        if (typeof callback === "function") queueMicrotask(() => (callback as () => void)());
        return true;
      }) as typeof stream.write;
    }
    this.restore = () => {
      streams.forEach((stream, i) => {
        stream.write = originals[i] as typeof stream.write;
      });
    };
  }

  private captured(raw: string): void {
    // console colours what it formats on a terminal: those escapes are dropped, any other control is shown; a
    // carriage return (a progress counter) starts its line again, as on a terminal.
    const text = raw.replace(ANSI, "").replace(/\r\n/g, "\n");
    // Only the new text is split, and the unfinished line keeps its last few KB: a streamed answer written a token
    // at a time (no newline for thousands of writes) must cost what it costs without the screen.
    const overwritten = (line: string) => line.slice(line.lastIndexOf("\r") + 1);
    if (!text.includes("\n")) {
      this.partial = keepTail(overwritten(this.partial + text));
    } else {
      const lines = text.split("\n");
      lines[0] = this.partial + lines[0];
      this.partial = keepTail(overwritten(lines.pop() ?? ""));
      for (const line of lines.slice(-OUTPUT_LINES)) this.output.push(overwritten(line).slice(0, 1000));
      if (this.output.length > OUTPUT_LINES) this.output.splice(0, this.output.length - OUTPUT_LINES);
    }
    this.schedule();
  }

  refresh(): void {
    this.schedule();
  }

  trigger(text: string): void {
    // A new round: what the last one printed no longer belongs to what is shown.
    this.output.length = 0;
    this.partial = "";
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
    // The unfinished line (a streamed answer) shows its end, its newest tokens; finished lines their start.
    const columns = Math.max(20, this.out.columns ?? 80) - 2;
    const tail = (line: string) => (line.length > columns ? `…${line.slice(-(columns - 1))}` : line);
    const printed = [...this.output.map(printable), ...(this.partial ? [tail(printable(this.partial))] : [])];
    const output = printed.length > 0 ? [c.dim("output"), ...printed.map((line) => `  ${line}`), ""] : [];
    const activity = this.activity.length > 0 ? [...this.activity, ""] : [];
    // The last frame, left on the terminal after quitting, offers no keys that no longer work.
    const keys = this.o.keys && !this.closing ? [c.dim(KEYS_HELP)] : [];
    const lines = this.fit(head, body.join("\n").split("\n"), output, activity, keys);
    // Overwritten in place, line by line, rather than cleared first: a redraw while rows stream in must not flicker.
    const text = lines.join(`${CLEAR_LINE}\n`);
    this.write(`${this.drawn ? HOME : CLEAR}${text}${CLEAR_LINE}\n${CLEAR_BELOW}`);
    this.drawn = true;
  }

  /**
   * The frame cut to the terminal's size: a frame taller than the screen scrolls, and every redraw would push a
   * whole copy into the scrollback and leave the status line and the latest activity out of sight. Each line is cut
   * to the width (a wrapped line takes rows no count foresees); the evals' blocks give way first, with a line saying
   * how much is hidden, but keep a few rows while the output and activity lines, oldest first, give way to them.
   */
  private fit(
    head: string[],
    body: string[],
    output: string[],
    activity: string[],
    keys: string[],
  ): string[] {
    const rows = this.out.rows;
    const columns = Math.max(20, this.out.columns ?? 80);
    const cut = (lines: string[]) => lines.map((line) => cutToWidth(line, columns));
    const [h, b, o, a, k] = [head, body, output, activity, keys].map(cut) as [
      string[],
      string[],
      string[],
      string[],
      string[],
    ];
    if (!rows || h.length + b.length + o.length + a.length + k.length < rows)
      return [...h, ...b, ...o, ...a, ...k];
    // One row stays free (the cursor's, after the last line); the evals keep half the rest (at least 4 rows) and
    // the "… more" line: their scores are what a session is watched for.
    const free = rows - 1;
    const keepBody = Math.min(b.length, Math.max(4, Math.floor((free - h.length) / 2))) + 1;
    // The output's oldest lines give way first (then its header), then the activity's, oldest first; keys stay.
    while (h.length + keepBody + o.length + a.length + k.length > free) {
      if (o.length > 2) o.splice(1, 1);
      else if (o.length > 0) o.length = 0;
      else if (a.length > 0) a.shift();
      else break;
    }
    const tail = [...o, ...a, ...k];
    const room = Math.max(0, free - h.length - tail.length - 1);
    const shown = b.slice(0, room);
    const hidden = b.length - shown.length;
    const more =
      hidden > 0
        ? [this.o.colors.dim(`… ${plural(hidden, "more line")} (a taller window shows every eval)`)]
        : [];
    return [...h, ...shown, ...cut(more), ...tail].slice(0, free);
  }

  close(): void {
    this.closing = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.out.off("resize", this.onResize);
    this.draw();
    this.restore();
  }
}

/** A line cut to `columns` visible characters, colour escapes kept (and closed) and an ellipsis where it was cut. */
function cutToWidth(line: string, columns: number): string {
  const plain = line.replace(ANSI, "");
  if (plain.length <= columns / 2 || displayWidth(plain) <= columns) return line;
  let out = "";
  let visible = 0;
  let i = 0;
  while (i < line.length) {
    const colour = line[i] === "\x1b" ? COLOUR_AT_START.exec(line.slice(i)) : null;
    if (colour) {
      out += colour[0];
      i += colour[0].length;
      continue;
    }
    const point = line.codePointAt(i) as number;
    const char = String.fromCodePoint(point);
    const width = charWidth(point);
    if (visible + width > columns - 1) break;
    out += char;
    visible += width;
    i += char.length;
  }
  return `${out}…\x1b[0m`;
}

/** Columns a text takes on a terminal: CJK and most emoji take two. */
function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += charWidth(char.codePointAt(0) as number);
  return width;
}

/** East Asian wide and full-width characters, and emoji, take two columns; combining marks none. */
function charWidth(point: number): number {
  if ((point >= 0x300 && point <= 0x36f) || point === 0x200d || (point >= 0xfe00 && point <= 0xfe0f))
    return 0;
  const wide =
    (point >= 0x1100 && point <= 0x115f) ||
    (point >= 0x2e80 && point <= 0xa4cf) ||
    (point >= 0xac00 && point <= 0xd7a3) ||
    (point >= 0xf900 && point <= 0xfaff) ||
    (point >= 0xfe30 && point <= 0xfe4f) ||
    (point >= 0xff00 && point <= 0xff60) ||
    (point >= 0xffe0 && point <= 0xffe6) ||
    (point >= 0x1f300 && point <= 0x1f64f) ||
    (point >= 0x1f900 && point <= 0x1f9ff) ||
    (point >= 0x20000 && point <= 0x3fffd);
  return wide ? 2 : 1;
}

/** The end of an unfinished line, a few KB of it: all the frame can show, and all a streamed answer needs. */
function keepTail(line: string): string {
  return line.length > 4096 ? line.slice(-4096) : line;
}
