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
  const inserters = new Map<number, ReturnType<typeof rowInserter>>();
  const failed = new Set<number>();
  const inserter = (lane: number, seq: number) => {
    let insert = inserters.get(lane);
    if (!insert) {
      insert = rowInserter(db, seq);
      inserters.set(lane, insert);
    }
    return insert;
  };

  // Every message queued is written in one transaction: a thread that falls behind commits less often, not later.
  const handle = (messages: ToThread[]) => {
    const committed = new Map<number, number>();
    const failing: number[] = [];
    const closed: number[] = [];
    let shutdown = false;
    try {
      db.transaction(() => {
        for (const m of messages) {
          if ("shutdown" in m) shutdown = true;
          else if ("close" in m) closed.push(m.lane);
          else if (!failed.has(m.lane)) {
            try {
              inserter(m.lane, m.seq)(m);
              committed.set(m.lane, (committed.get(m.lane) ?? 0) + 1);
            } catch {
              failed.add(m.lane);
              failing.push(m.lane);
            }
          }
        }
      })();
    } catch {
      // The commit failed: none of these batches is stored.
      for (const lane of committed.keys()) {
        failed.add(lane);
        failing.push(lane);
      }
      committed.clear();
    }
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
