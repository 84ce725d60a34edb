import { afterEach, describe, expect, it } from "vitest";
import { ExitCalled, guardExit } from "../../src/engine/exit-guard.js";

const nodeExit = process.exit;

describe("guardExit", () => {
  afterEach(() => {
    process.exit = nodeExit;
  });

  it("turns process.exit into a throw while any guard is on, and restores it after the last", () => {
    const first = guardExit();
    const second = guardExit(); // watch mode runs evals concurrently, each under its own guard
    expect(() => process.exit(3)).toThrow(ExitCalled);
    first();
    first(); // releasing twice must not release another's guard
    expect(() => process.exit(2)).toThrow(
      "process.exit(2) was called; under evalrun it ends this row, not the run",
    );
    second();
    expect(process.exit).toBe(nodeExit);
  });
});
