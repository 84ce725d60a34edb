import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ChangeWatcher } from "../../src/watch/change-watcher.js";

function nextBatch(watcher: { batches: Array<Set<string>> }, timeoutMs = 5000): Promise<Set<string>> {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      const batch = watcher.batches.shift();
      if (batch) resolve(batch);
      else if (Date.now() > until) reject(new Error("no batch"));
      else setTimeout(poll, 10);
    };
    poll();
  });
}

describe("ChangeWatcher", () => {
  it("hands over a burst of events as one batch, and watches only the directories it is given", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "evalrun-watcher-"));
    mkdirSync(path.join(dir, "a"));
    mkdirSync(path.join(dir, "b"));
    const state = { batches: [] as Array<Set<string>> };
    const watcher = new ChangeWatcher({
      quietMs: 40,
      maxWaitMs: 400,
      onBatch: (paths) => state.batches.push(paths),
      onWarning: () => {},
    });
    try {
      watcher.setDirectories([path.join(dir, "a")]);
      expect(watcher.size).toBe(1);
      const file = path.join(dir, "a", "x.ts");
      writeFileSync(file, "1");
      writeFileSync(file, "12");
      writeFileSync(path.join(dir, "a", "y.ts"), "1");
      const batch = await nextBatch(state);
      expect([...batch].sort()).toEqual([file, path.join(dir, "a", "y.ts")]);

      watcher.setDirectories([path.join(dir, "b")]);
      writeFileSync(path.join(dir, "a", "x.ts"), "3");
      writeFileSync(path.join(dir, "b", "z.ts"), "1");
      expect([...(await nextBatch(state))]).toEqual([path.join(dir, "b", "z.ts")]);
      expect(state.batches).toEqual([]);
    } finally {
      watcher.close();
    }
  });
});
