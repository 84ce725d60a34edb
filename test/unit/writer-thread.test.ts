import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import type { RowResult } from "../../src/engine/types.js";
import { closeStore, openStore } from "../../src/store/open.js";
import {
  type EncodedRows,
  encodeRows,
  KEY_AT,
  SentBlobs,
  VALUES_PER_ROW,
} from "../../src/store/row-encoding.js";
import { rowInserter } from "../../src/store/row-insert.js";
import {
  MAX_BATCH,
  RowWriter,
  rowCount,
  storedRows,
  THREAD_AFTER,
  THREAD_WORTH,
} from "../../src/store/rows.js";
import { type Lane, WriteThread } from "../../src/store/write-thread.js";
import { newExperiment } from "../helpers/store.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function storeFile(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "evalrun-thread-"));
  dirs.push(dir);
  return path.join(dir, "store.db");
}

/** Row `i`: every 7th with a large input (a blob), every 5th errored. */
function result(i: number): RowResult {
  const input = i % 7 === 0 ? `${i}:${"lorem ipsum ".repeat(40)}` : `row ${i}`;
  return {
    id: `r${i}`,
    input,
    output: input,
    expected: null,
    scores: { s: (i % 10) / 10 },
    metadata: {},
    tags: [],
    metrics: { start: i, end: i + 1, duration: 1 },
    row_key: `h:${i}`,
    row_index: i,
    trial_index: 0,
    ...(i % 5 === 0 ? { error: { kind: "task" as const, message: `boom ${i}` } } : {}),
  };
}

/** Keys as the ledger sees them: every committed batch's, in the order handed over. */
function keysOf(batches: EncodedRows[]): string[] {
  return batches.flatMap((b) =>
    Array.from({ length: b.count }, (_, i) => b.values[i * VALUES_PER_ROW + KEY_AT] as string),
  );
}

const expectedKeys = (n: number) => Array.from({ length: n }, (_, i) => `h:${i}`);

/**
 * A lane standing in for the thread: it commits its first `commits` batches (with the main thread's connection)
 * and no more, and says it is ready for the first `readyFor` posts. It closes cleanly when it committed all it
 * was given.
 */
function fakeLane(db: Database.Database, seq: number, commits: number, readyFor = Number.POSITIVE_INFINITY) {
  const insert = db.transaction(rowInserter(db, seq));
  const counts = { posted: 0, committed: 0, closed: 0 };
  const lane: Lane = {
    ready: () => counts.posted < readyFor,
    post(batch) {
      counts.posted++;
      if (counts.committed < commits) {
        insert(batch);
        counts.committed++;
      }
    },
    committed: () => counts.committed,
    waitFor: (n) => counts.committed >= n,
    close: () => {
      counts.closed++;
      return counts.committed === counts.posted;
    },
  };
  return { lane, counts };
}

/** Writes rows 0..n-1 through an engine's RowWriter with `lane`; the batches the ledger was handed. */
function writeThrough(db: Database.Database, seq: number, n: number, lane: Lane): EncodedRows[] {
  const written: EncodedRows[] = [];
  const writer = new RowWriter(
    db,
    seq,
    (b) => written.push(b),
    undefined,
    true,
    () => lane,
  );
  for (let i = 0; i < n; i++) writer.write(result(i));
  writer.close();
  return written;
}

describe("the store's writer thread", () => {
  it("writes an experiment's rows past THREAD_AFTER, in order, each once, and hands every batch to the ledger", async () => {
    const file = storeFile();
    const store = openStore(file);
    const e = newExperiment(store.db, "threaded");
    const written: EncodedRows[] = [];
    let lane: Lane | undefined;
    let posted = 0;
    const writer = new RowWriter(
      store.db,
      e.seq,
      (batch) => written.push(batch),
      undefined,
      true,
      () => {
        const real = WriteThread.for(file)?.lane(e.seq);
        if (!real) return undefined;
        lane = {
          ...real,
          post: (batch) => {
            posted++;
            real.post(batch);
          },
        };
        return lane;
      },
    );
    const n = THREAD_AFTER + 30 * MAX_BATCH;
    for (let i = 0; i < n; i++) {
      writer.write(result(i));
      // Past THREAD_AFTER rows, let the thread start before the rest come, as a long eval's rows would.
      for (let waited = 0; i === THREAD_AFTER && !lane?.ready() && waited < 10_000; waited += 10) {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    writer.close();
    expect(posted).toBeGreaterThanOrEqual(29);
    expect(keysOf(written)).toEqual(expectedKeys(n));
    const back = [...storedRows(store.db, e.seq)];
    expect(back.map((r) => r.row_key)).toEqual(expectedKeys(n));
    expect(back[n - 7]).toEqual(JSON.parse(JSON.stringify(result(n - 7))));
    closeStore(store);
    // The thread closed its connection first: the main thread's close checkpointed the WAL away.
    const again = openStore(file);
    expect(again.db.prepare("SELECT count(*) FROM results").pluck().get()).toBe(n);
    closeStore(again);
  });

  it("fails only the experiment whose batch fails, when another experiment's batches share its commit", async () => {
    const file = storeFile();
    const store = openStore(file);
    const good = newExperiment(store.db, "good");
    const bad = newExperiment(store.db, "bad");
    const thread = WriteThread.for(file);
    const a = thread?.lane(good.seq);
    const b = thread?.lane(bad.seq);
    if (!a || !b) throw new Error("no writer thread");
    for (let waited = 0; !a.ready() && waited < 10_000; waited += 10) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const encode = (from: number, n: number) =>
      encodeRows(
        Array.from({ length: n }, (_, i) => result(from + i)),
        new SentBlobs(),
        true,
      );
    const broken = encode(100, 10);
    // An id SQLite cannot bind: that batch's insert throws inside the thread.
    broken.values[3 * VALUES_PER_ROW] = { not: "bindable" } as never;
    // Posted back to back, so that the thread takes them in one transaction.
    a.post(encode(0, 10));
    b.post(broken);
    a.post(encode(10, 10));
    expect(b.close()).toBe(false);
    expect(a.close()).toBe(true);
    expect([...storedRows(store.db, good.seq)].map((r) => r.row_key)).toEqual(expectedKeys(20));
    expect(rowCount(store.db, bad.seq)).toBe(0);
    closeStore(store);
  });

  it("gives back what a failed lane did not commit, and those rows are inserted in the main thread", () => {
    const store = openStore(storeFile());
    const e = newExperiment(store.db, "taken over");
    // A lane that commits its first three batches and then fails.
    const { lane, counts } = fakeLane(store.db, e.seq, 3);
    const n = THREAD_AFTER + 40 * MAX_BATCH + 17;
    const written = writeThrough(store.db, e.seq, n, lane);
    expect(counts.posted).toBeGreaterThan(3);
    expect(keysOf(written)).toEqual(expectedKeys(n));
    expect([...storedRows(store.db, e.seq)].map((r) => r.row_key)).toEqual(expectedKeys(n));
    // Every large input's blob is there, including those first sent in batches the lane failed.
    const missing = store.db
      .prepare(
        "SELECT count(*) FROM results WHERE input_ref IS NOT NULL AND input_ref NOT IN (SELECT hash FROM blobs)",
      )
      .pluck()
      .get();
    expect(missing).toBe(0);
    closeStore(store);
  });

  it("a thread that stops after taking batches gives them back, and every row is stored once, in order", () => {
    const store = openStore(storeFile());
    const e = newExperiment(store.db, "stopped");
    // Ready for five batches, of which it commits one; then it is gone (ready() false, nothing more commits).
    const { lane, counts } = fakeLane(store.db, e.seq, 1, 5);
    const n = THREAD_AFTER + 20 * MAX_BATCH;
    const written = writeThrough(store.db, e.seq, n, lane);
    expect(counts.posted).toBe(5);
    expect(counts.closed).toBe(1);
    expect(keysOf(written)).toEqual(expectedKeys(n));
    expect([...storedRows(store.db, e.seq)].map((r) => r.row_key)).toEqual(expectedKeys(n));
    closeStore(store);
  });

  it("a thread that is not ready yet leaves the rows to the main thread", () => {
    const store = openStore(storeFile());
    const e = newExperiment(store.db, "not ready");
    const { lane, counts } = fakeLane(store.db, e.seq, 0, 0);
    const n = THREAD_AFTER + 5 * MAX_BATCH;
    writeThrough(store.db, e.seq, n, lane);
    expect(counts.posted).toBe(0);
    expect(counts.closed).toBe(1);
    expect(store.db.prepare("SELECT count(*) FROM results").pluck().get()).toBe(n);
    closeStore(store);
  });

  it("is not started for an experiment known to be smaller than THREAD_WORTH, and is for one of unknown size", () => {
    const store = openStore(storeFile());
    const asked: string[] = [];
    for (const [name, expected] of [
      ["short array", THREAD_WORTH - 1],
      ["long array", THREAD_WORTH],
      ["generator", undefined],
    ] as const) {
      const e = newExperiment(store.db, name);
      const writer = new RowWriter(store.db, e.seq, undefined, undefined, true, () => {
        asked.push(name);
        return undefined;
      });
      if (expected !== undefined) writer.expect(expected);
      for (let i = 0; i < THREAD_AFTER + MAX_BATCH; i++) writer.write(result(i));
      writer.close();
    }
    expect(asked).toEqual(["long array", "generator"]);
    closeStore(store);
  });
});
