// The writer thread's entry: inserts the rows the main thread encoded and keeps each experiment's comparison with
// its baseline, so that SQLite's work runs on another core while the main thread runs evals.
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { Ledger } from "./comparer.js";
import { type EncodedRows, VALUES_PER_ROW } from "./row-encoding.js";
import { rowInserter } from "./row-insert.js";
import { type FromWriter, IN_FLIGHT, STOPPED, type ToWriter, type WriterData } from "./writer-protocol.js";

const { file, shared } = workerData as WriterData;
const slots = new Int32Array(shared);
const port = parentPort;
if (!port) throw new Error("evalrun: the store writer must run in a worker thread");

function stop(): void {
  Atomics.store(slots, STOPPED, 1);
  Atomics.notify(slots, IN_FLIGHT);
}
process.on("uncaughtException", (error) => {
  stop();
  throw error;
});

let db: Database.Database;
let openFailure: string | undefined;
try {
  db = new Database(file, { timeout: 10_000, fileMustExist: true });
  db.pragma("synchronous = OFF");
} catch (error) {
  openFailure = (error as Error).message;
}

interface Experiment {
  insert: (batch: EncodedRows) => void;
  ledger: Ledger;
  /** Batches that failed to insert, tried again before the next one (a busy store can recover). */
  pending: EncodedRows[];
  failure: string | undefined;
}
const experiments = new Map<number, Experiment>();

function write(exp: Experiment, batch: EncodedRows): void {
  exp.pending.push(batch);
  try {
    while (exp.pending.length > 0) {
      exp.insert(exp.pending[0] as EncodedRows);
      exp.pending.shift();
    }
    exp.failure = undefined;
  } catch (error) {
    exp.failure = (error as Error).message;
  }
}

function handle(message: ToWriter): FromWriter | undefined {
  switch (message.type) {
    case "open": {
      if (openFailure !== undefined) return undefined;
      const ledger = new Ledger(db, message.seq, message.baseline);
      ledger.loadBaseline();
      experiments.set(message.seq, {
        insert: rowInserter(db, message.seq),
        ledger,
        pending: [],
        failure: undefined,
      });
      return undefined;
    }
    case "rows": {
      const exp = experiments.get(message.seq);
      if (exp) {
        const { batch } = message;
        write(exp, batch);
        const { values } = batch;
        for (let i = 0; i < values.length; i += VALUES_PER_ROW) {
          exp.ledger.add(
            values[i + 1] as string,
            JSON.parse(values[i + 5] as string),
            values.slice(i + 7, i + 10),
          );
        }
      }
      Atomics.sub(slots, IN_FLIGHT, 1);
      Atomics.notify(slots, IN_FLIGHT);
      return undefined;
    }
    case "finish": {
      const exp = experiments.get(message.seq);
      if (!exp)
        return { type: "failed", request: message.request, message: openFailure ?? "unknown experiment" };
      experiments.delete(message.seq);
      if (exp.pending.length > 0) write(exp, { count: 0, values: [], blobs: [] });
      if (exp.failure !== undefined)
        return { type: "failed", request: message.request, message: exp.failure };
      return { type: "finished", request: message.request, outcome: exp.ledger.finish() };
    }
    case "close": {
      if (openFailure === undefined) db.close();
      stop();
      return { type: "closed", request: message.request };
    }
  }
}

port.on("message", (message: ToWriter) => {
  let reply: FromWriter | undefined;
  try {
    reply = handle(message);
  } catch (error) {
    const request = "request" in message ? message.request : -1;
    reply = { type: "failed", request, message: (error as Error).message };
  }
  if (reply) port.postMessage(reply);
  if (message.type === "close") port.close();
});
