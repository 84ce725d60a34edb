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
    view.close(); // draws once, now
    // Escapes stripped; each line written is one row of the terminal.
    const esc = String.fromCharCode(27);
    const frame = out.text.replace(new RegExp(`${esc}\\[[0-9;]*[A-Za-z]`, "g"), "").split("\n");
    expect(frame.length).toBeLessThanOrEqual(12);
    expect(frame[0]).toContain("evalrun --watch  30 evals · running");
    expect(out.text).toContain("r re-run all · f re-run failing rows · q quit");
    expect(out.text).toMatch(/… \d+ more lines \(a taller window shows every eval\)/);
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
});
