import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { EvalInfo } from "../../src/engine/types.js";
import { createProgress } from "../../src/report/progress.js";

/** A terminal-like stream that keeps what was drawn, escape sequences removed. */
function terminal(): { stream: Writable; text: () => string } {
  let drawn = "";
  const stream = new Writable({
    write(chunk, _encoding, done) {
      drawn += String(chunk);
      done();
    },
  });
  Object.assign(stream, {
    isTTY: true,
    columns: 100,
    rows: 30,
    cursorTo() {},
    moveCursor() {},
    clearScreenDown() {},
  });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are what is stripped
  return { stream, text: () => drawn.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "") };
}

const plain = { red: (s: string) => s, dim: (s: string) => s } as never;
const info = (name: string) => ({ name }) as EvalInfo;

describe("progress bars", () => {
  it("show every row counted, though bars are told their counts on a timer, not at each row", async () => {
    const { stream, text } = terminal();
    const progress = await createProgress(stream, plain);
    const a = info("alpha");
    const b = info("beta");
    progress.start([a, b]);
    progress.setTotal(b, 10);
    for (let i = 0; i < 7; i++) progress.tick(a, i === 3);
    for (let i = 0; i < 4; i++) progress.tick(b, false);
    // Within one timer period nothing was pushed yet; stopping draws the last counts.
    progress.stop();
    expect(text()).toContain("alpha  7 rows · 1 errors");
    expect(text()).toMatch(/beta {3}[█░]+ 4\/10/);
  });

  it("never keep the process alive, so a run whose rows can never finish is told so in a terminal too", async () => {
    // Every timer the bars make (cli-progress redraws on one) must be unref'd: Node's beforeExit, which tells
    // evalrun that nothing is left to wait on, never comes while a ref'd timer is pending.
    const made: NodeJS.Timeout[] = [];
    const { setTimeout: realTimeout, setInterval: realInterval } = globalThis;
    const { stream, text } = terminal();
    const progress = await createProgress(stream, plain);
    const a = info("alpha");
    try {
      globalThis.setTimeout = ((...args: Parameters<typeof realTimeout>) => {
        const timer = realTimeout(...args);
        made.push(timer);
        return timer;
      }) as typeof realTimeout;
      globalThis.setInterval = ((...args: Parameters<typeof realInterval>) => {
        const timer = realInterval(...args);
        made.push(timer);
        return timer;
      }) as typeof realInterval;
      progress.start([a]);
      progress.tick(a, false);
    } finally {
      Object.assign(globalThis, { setTimeout: realTimeout, setInterval: realInterval });
    }
    // Past a redraw or two: each schedules the next on a timer of its own.
    await new Promise((resolve) => realTimeout(resolve, 250));
    const live = made.filter((t) => t.hasRef());
    progress.stop();
    expect(text()).toContain("alpha  1 rows");
    expect(made.length).toBeGreaterThan(0);
    expect(live).toEqual([]);
  });
});
