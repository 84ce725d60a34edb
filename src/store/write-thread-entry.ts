// The store's writer thread (dist/store-writer.js): inserts the batches of results the main thread encoded, over
// its own connection to the store, so that a long eval's SQLite work runs beside the engine instead of in turn
// with it. See write-thread.ts for the main thread's side.
import { receiveMessageOnPort, workerData } from "node:worker_threads";
import type Database from "better-sqlite3";
import { sqliteConnection } from "../util/sqlite-binding.js";
import { rowInserter } from "./row-insert.js";
import {
  COMMITTED,
  LANE_CLOSED,
  LANE_FAILED,
  LANES,
  laneSlot,
  STATE,
  THREAD_DEAD,
  THREAD_READY,
  THREAD_SHUT,
  THREAD_STATE,
  type ToThread,
  type WriteThreadData,
} from "./write-thread-protocol.js";

const { location, shared, port } = workerData as WriteThreadData;
const flags = new Int32Array(shared);

function bump(lane: number): void {
  Atomics.add(flags, laneSlot(lane), 1);
  Atomics.notify(flags, laneSlot(lane));
}

function stop(state: number): void {
  Atomics.store(flags, THREAD_STATE, state);
  for (let lane = 0; lane < LANES; lane++) bump(lane);
  port.close();
}

function serve(db: Database.Database): void {
  type Insert = ReturnType<typeof rowInserter>;
  const inserters = new Map<number, { bare: Insert; atomic: Insert }>();
  const failed = new Set<number>();
  const inserter = (lane: number, seq: number, atomic: boolean): Insert => {
    let found = inserters.get(lane);
    if (!found) {
      const bare = rowInserter(db, seq);
      found = { bare, atomic: db.transaction(bare) };
      inserters.set(lane, found);
    }
    return atomic ? found.atomic : found.bare;
  };

  /**
   * Writes the batches among `messages` in one transaction and counts them by lane. Not `atomic`: any failure fails
   * (and rolls back) the whole transaction. `atomic`: each batch in a savepoint, so that a failing batch fails its
   * lane alone (its lane is added to `failing`).
   */
  const insertAll = (messages: ToThread[], atomic: boolean, failing: number[]): Map<number, number> => {
    const counts = new Map<number, number>();
    db.transaction(() => {
      for (const m of messages) {
        if (!("values" in m) || failed.has(m.lane)) continue;
        try {
          inserter(m.lane, m.seq, atomic)(m);
        } catch (error) {
          if (!atomic) throw error;
          failed.add(m.lane);
          failing.push(m.lane);
          continue;
        }
        counts.set(m.lane, (counts.get(m.lane) ?? 0) + 1);
      }
    })();
    return counts;
  };

  // Every message queued is written in one transaction: a thread that falls behind commits less often, not later.
  // Without a savepoint a batch (see rowInserter); only when that transaction fails are its batches written again,
  // each in a savepoint, so that one experiment's failing batch fails that experiment alone.
  const handle = (messages: ToThread[]) => {
    const failing: number[] = [];
    let committed: Map<number, number>;
    try {
      committed = insertAll(messages, false, failing);
    } catch {
      try {
        committed = insertAll(messages, true, failing);
      } catch {
        // The commit failed: none of these batches is stored.
        committed = new Map();
        for (const m of messages) {
          if (!("values" in m) || failed.has(m.lane)) continue;
          failed.add(m.lane);
          failing.push(m.lane);
        }
      }
    }
    const closed = messages.flatMap((m) => ("close" in m ? [m.lane] : []));
    const shutdown = messages.some((m) => "shutdown" in m);
    for (const [lane, n] of committed) Atomics.add(flags, laneSlot(lane) + COMMITTED, n);
    for (const lane of failing) Atomics.store(flags, laneSlot(lane) + STATE, LANE_FAILED);
    for (const lane of closed) {
      if (!failed.has(lane)) Atomics.store(flags, laneSlot(lane) + STATE, LANE_CLOSED);
      failed.delete(lane);
      inserters.delete(lane);
    }
    for (const lane of new Set([...committed.keys(), ...failing, ...closed])) bump(lane);
    if (shutdown) {
      db.close();
      stop(THREAD_SHUT);
    }
  };

  port.on("message", (first: ToThread) => {
    const messages = [first];
    for (let next = receiveMessageOnPort(port); next !== undefined; next = receiveMessageOnPort(port)) {
      messages.push(next.message as ToThread);
      if (messages.length >= 256) break;
    }
    try {
      handle(messages);
    } catch {
      stop(THREAD_DEAD);
    }
  });
}

try {
  const db = sqliteConnection(location);
  db.pragma("synchronous = OFF");
  serve(db);
  Atomics.store(flags, THREAD_STATE, THREAD_READY);
} catch {
  stop(THREAD_DEAD);
}
