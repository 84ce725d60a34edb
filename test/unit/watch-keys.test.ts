import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { type KeyAction, keyAction, listenForKeys } from "../../src/watch/keys.js";

describe("watch keys", () => {
  it("maps r, f, q (either case), Ctrl-C and Ctrl-D; other keys mean nothing", () => {
    expect(["r", "R", "f", "F", "q", "Q", "\u0003", "\u0004", "x", "\r"].map(keyAction)).toEqual([
      "rerun-all",
      "rerun-all",
      "rerun-failing",
      "rerun-failing",
      "quit",
      "quit",
      "interrupt",
      "quit",
      undefined,
      undefined,
    ]);
  });

  it("reads each character of a pipe as a key, skips escape sequences, and stops when asked", async () => {
    const input = new PassThrough() as unknown as NodeJS.ReadStream;
    const actions: KeyAction[] = [];
    const stop = listenForKeys(input, (a) => actions.push(a));
    input.write("rf\n");
    input.write("\u001b[A"); // an arrow key: its "A" is no key
    input.write("q");
    await new Promise((resolve) => setImmediate(resolve));
    stop();
    input.write("r");
    await new Promise((resolve) => setImmediate(resolve));
    expect(actions).toEqual(["rerun-all", "rerun-failing", "quit"]);
  });
});
