import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { colorsFor } from "../../src/report/colors.js";
import { ScreenView } from "../../src/watch/screen-view.js";
import type { EvalState } from "../../src/watch/state.js";

/** A terminal of the given size that keeps what is written to it. */
function terminal(rows: number, columns: number) {
  const out = Object.assign(new EventEmitter(), {
    rows,
    columns,
    isTTY: true,
    text: "",
    write(chunk: string) {
      out.text += chunk;
      return true;
    },
  });
  return out;
}

const running = (i: number): EvalState => ({
  name: `eval-${i}`,
  file: `/p/evals/e${i}.eval.ts`,
  active: true,
  running: { rows: i, total: 10 },
  last: undefined,
  previous: undefined,
  base: undefined,
  failure: undefined,
});

describe("the watch screen", () => {
  it("fits the terminal's height: the evals give way, the status line and the keys stay", () => {
    const out = terminal(12, 80);
    const evals = Array.from({ length: 30 }, (_, i) => running(i));
    const view = new ScreenView(
      out as unknown as NodeJS.WriteStream,
      () => ({ evals, problems: [], busy: true }),
      {
        cwd: "/p",
        colors: colorsFor({ isTTY: false } as NodeJS.WriteStream),
        verbose: false,
        keys: true,
      },
    );
    view.draw();
    const drawn = out.text;
    view.close();
    // Escapes stripped; each line written is one row of the terminal.
    const esc = String.fromCharCode(27);
    const frame = drawn.replace(new RegExp(`${esc}\\[[0-9;]*[A-Za-z]`, "g"), "").split("\n");
    expect(frame.length).toBeLessThanOrEqual(12);
    expect(frame[0]).toContain("evalrun --watch  30 evals · running");
    expect(drawn).toContain("r re-run all · f re-run failing rows · q quit");
    expect(drawn).toMatch(/… \d+ more lines \(a taller window shows every eval\)/);
    // The frame left after quitting offers no keys.
    expect(out.text.slice(drawn.length)).not.toContain("r re-run all");
    // On a tall terminal, everything.
    const tall = terminal(200, 80);
    new ScreenView(tall as unknown as NodeJS.WriteStream, () => ({ evals, problems: [], busy: true }), {
      cwd: "/p",
      colors: colorsFor({ isTTY: false } as NodeJS.WriteStream),
      verbose: false,
      keys: true,
    }).close();
    expect(tall.text).toContain("eval-29");
    expect(tall.text).not.toContain("more line");
  });

  const options = {
    cwd: "/p",
    colors: colorsFor({ isTTY: false } as NodeJS.WriteStream),
    verbose: false,
    keys: true,
  };
  const rowsOf = (text: string) =>
    text
      .slice(text.lastIndexOf(`${String.fromCharCode(27)}[H`))
      .replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, "g"), "")
      .split("\n");

  it("keeps what eval code prints in the frame, where the next redraw would have wiped it", () => {
    const out = terminal(40, 80);
    const view = new ScreenView(
      out as unknown as NodeJS.WriteStream,
      () => ({ evals: [running(1)], problems: [], busy: true }),
      options,
    );
    try {
      // As a task's console.log, or a worker thread's output forwarded to this process, would.
      process.stdout.write("LLM said: row 1\n");
      process.stderr.write("warning from a scorer\nLLM said: row ");
      process.stdout.write("2\n");
      // A progress counter rewrites its line with carriage returns.
      process.stdout.write("progress 1%\rprogress 50%\rprogress 100%\n");
      view.draw();
    } finally {
      view.close();
    }
    const frame = rowsOf(out.text);
    const at = frame.indexOf("output");
    expect(at).toBeGreaterThan(0);
    expect(frame.slice(at + 1, at + 5)).toEqual([
      "  LLM said: row 1",
      "  warning from a scorer",
      "  LLM said: row 2",
      "  progress 100%",
    ]);
    // Closed, the process's own streams write again.
    expect(process.stdout.write).not.toBe(undefined);
    expect(String(process.stdout.write).includes("captured")).toBe(false);
  });

  it("never draws more rows than a small terminal has, cutting long lines to its width", () => {
    const out = terminal(8, 30);
    let drawn = "";
    const view = new ScreenView(
      out as unknown as NodeJS.WriteStream,
      () => ({ evals: Array.from({ length: 4 }, (_, i) => running(i)), problems: [], busy: false }),
      options,
    );
    try {
      view.trigger(`lib/p.ts changed: re-running ${"an_eval_with_a_long_name, ".repeat(4)}`);
      for (let i = 0; i < 12; i++) process.stdout.write(`output line ${i}\n`);
      view.draw();
    } finally {
      drawn = out.text;
      view.close();
    }
    const frame = rowsOf(drawn).filter((line, i, all) => i < all.length - 1 || line !== "");
    expect(frame.length).toBeLessThanOrEqual(7);
    for (const line of frame) expect(line.length).toBeLessThanOrEqual(30);
    expect(frame[0]).toContain("evalrun --watch");
    expect(frame.at(-1)).toContain("r re-run all");
  });

  it("takes a streamed answer a token at a time in time linear in its length, showing its newest tokens", () => {
    const out = terminal(40, 80);
    const view = new ScreenView(
      out as unknown as NodeJS.WriteStream,
      () => ({ evals: [running(1)], problems: [], busy: true }),
      options,
    );
    const started = performance.now();
    let streaming: string[];
    try {
      for (let k = 0; k < 50_000; k++) process.stdout.write(`tok${k} `);
      view.draw();
      streaming = rowsOf(out.text);
      // console colours numbers on a terminal: shown as text, not as escapes.
      process.stderr.write("\nstream took \x1b[33m15\x1b[39m ms\n");
      view.draw();
    } finally {
      view.close();
    }
    // Quadratic, this took ~30 s; linear, well under one.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(streaming[streaming.indexOf("output") + 1]).toMatch(/^ {2}….*tok49999 $/);
    const frame = rowsOf(out.text);
    expect(frame[frame.indexOf("output") + 2]).toBe("  stream took 15 ms");
    expect(out.text).not.toContain("\\u001b");
  });

  it("cuts CJK text by the columns it takes (two a character), not by its length", () => {
    const out = terminal(40, 30);
    const view = new ScreenView(
      out as unknown as NodeJS.WriteStream,
      () => ({ evals: [running(1)], problems: [], busy: false }),
      options,
    );
    try {
      process.stdout.write(`${"日本語の回答です".repeat(6)}\n`);
      view.draw();
    } finally {
      view.close();
    }
    const line = rowsOf(out.text).find((l) => l.includes("日")) ?? "";
    const columns = [...line].reduce((n, c) => n + (/[\u3000-\u9fff]/.test(c) ? 2 : 1), 0);
    expect(columns).toBeLessThanOrEqual(30);
    expect(line.endsWith("…")).toBe(true);
  });
});
