import { hash } from "node:crypto";
import { configure } from "safe-stable-stringify";

const canonical = configure({ bigint: true, circularValue: "[Circular]", deterministic: true });

/**
 * A row's identity across runs, for matching against a baseline and for --resume: `id:<id>` when the data gives
 * an id, else `h:` and the first 16 hex digits of the SHA-1 of the input as canonical JSON (object keys sorted),
 * so reordering the data or an object's keys keeps each row's key.
 */
export function rowKey(row: { input: unknown; id?: unknown }): string {
  if (row.id !== undefined && row.id !== null) return `id:${String(row.id)}`;
  const input = row.input;
  const text = typeof input === "object" && input !== null ? canonical(input) : JSON.stringify(input);
  return `h:${hash("sha1", text ?? String(input), "hex").slice(0, 16)}`;
}

/** Decides which (row, trial) pairs run, for --resume (skip what is done) and --retry-errors (only what failed). */
export interface RunPlan {
  take(rowKey: string, trial: number): boolean;
}

const pair = (rowKey: string, trial: number) => `${trial}\u0000${rowKey}`;

/** Skips as many results of each (row, trial) as `done` counts; runs the rest. */
export function skipDone(done: Map<string, number>): RunPlan {
  return {
    take(key, trial) {
      const k = pair(key, trial);
      const n = done.get(k) ?? 0;
      if (n === 0) return true;
      done.set(k, n - 1);
      return false;
    },
  };
}

/** Runs only as many results of each (row, trial) as `wanted` counts. */
export function onlyThese(wanted: Map<string, number>): RunPlan {
  return {
    take(key, trial) {
      const k = pair(key, trial);
      const n = wanted.get(k) ?? 0;
      if (n === 0) return false;
      wanted.set(k, n - 1);
      return true;
    },
  };
}
