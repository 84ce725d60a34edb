import { createHash, hash } from "node:crypto";
import { configure } from "safe-stable-stringify";
import type { EvalCase } from "../define/types.js";
import { storableJson } from "../util/storable-json.js";
import type { PriorRun } from "./row.js";

const canonical = configure({ bigint: true, circularValue: "[Circular]", deterministic: true });

/**
 * A row's identity across runs, for matching against a baseline and for --resume: `id:<id>` when the data gives
 * an id (not blank), else `h:` and the first 16 hex digits of a SHA-1 of the input: over its canonical JSON (object keys
 * sorted, Maps and Sets as their sorted entries), or for a string input over a NUL byte and the string. Reordering
 * the data or an object's keys keeps each row's key.
 */
export function rowKey(row: { input: unknown; id?: unknown }, inputDigest?: string): string {
  // A blank id (a CSV's empty cell) is not given: as one id, every such row was compared as one row.
  if (row.id != null && (typeof row.id !== "string" || row.id.trim() !== "")) return `id:${String(row.id)}`;
  if (inputDigest !== undefined) return `h:${inputDigest.slice(0, 16)}`;
  const input = row.input;
  if (typeof input === "string") return `h:${stringDigest(input).slice(0, 16)}`;
  let text: string | undefined;
  try {
    text = typeof input === "object" && input !== null ? canonical(input) : JSON.stringify(input);
    // JSON gives every Map and Set "{}", so rows of Map inputs all had one key (compared as one row). Only text
    // with an empty object can hold one: other inputs keep the key they always had.
    if (text?.includes("{}")) text = canonical(input, withEntries);
  } catch (error) {
    // Nested deeper than JSON can go: every such input is stored as one placeholder, and shared its key.
    if (error instanceof RangeError) return `h:${deepDigest(input).slice(0, 16)}`;
    // A toJSON or getter that throws: the input as the store keeps it.
    text = storableJson(input);
  }
  return `h:${hash("sha1", text ?? String(input), "hex").slice(0, 16)}`;
}

/**
 * SHA-1 of a value walked without recursion (objects' keys sorted, Maps and Sets by their entries in order), for
 * inputs too deep for JSON. Not their JSON's digest: such an input has no JSON, so no other key can equal it.
 */
function deepDigest(value: unknown): string {
  const digest = createHash("sha1").update("\u0001deep");
  const stack: unknown[] = [value];
  const open = new Set<object>();
  const CLOSE = Symbol("close");
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === "object" && item !== null && (item as { [CLOSE]?: object })[CLOSE] !== undefined) {
      open.delete((item as { [CLOSE]: object })[CLOSE]);
      digest.update(")");
      continue;
    }
    if (typeof item !== "object" || item === null) {
      digest.update(`${typeof item}:${typeof item === "string" ? JSON.stringify(item) : String(item)};`);
      continue;
    }
    if (open.has(item)) {
      digest.update("[Circular];");
      continue;
    }
    open.add(item);
    stack.push({ [CLOSE]: item });
    const children: unknown[] = [];
    if (Array.isArray(item)) {
      digest.update("[(");
      children.push(...item);
    } else if (item instanceof Map || item instanceof Set) {
      digest.update(item instanceof Map ? "Map(" : "Set(");
      for (const entry of item) children.push(entry);
    } else {
      digest.update("{(");
      for (const key of Object.keys(item).sort()) children.push(key, (item as Record<string, unknown>)[key]);
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  return digest.digest("hex");
}

/** A Map or Set as its entries, in the order of their canonical JSON (as an object's keys are sorted). */
function withEntries(_key: string, value: unknown): unknown {
  if (value instanceof Map) {
    const entries = [...value].map(([k, v]) => [canonical(k, withEntries) ?? "", v] as const);
    return { "\u0000Map": entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)) };
  }
  if (value instanceof Set) {
    const members = [...value].map((v) => canonical(v, withEntries) ?? "");
    return { "\u0000Set": members.sort() };
  }
  return value;
}

/**
 * SHA-1 (hex) identifying a string value: over a NUL byte and the string itself. No JSON text starts with NUL, so
 * it never equals the digest of another value's canonical JSON; and it skips serialising the string, which costs
 * more than hashing it (a 1 KB string: ~4 us to JSON, ~2 us to hash, here). A string with a lone surrogate is
 * hashed as its JSON instead, which escapes each one: hashing takes UTF-8, which turns them all into U+FFFD, so
 * text cut mid-emoji would share its digest (and its stored blob) with the same text ending in U+FFFD.
 */
export function stringDigest(value: string): string {
  return value.isWellFormed()
    ? hash("sha1", `\u0000${value}`, "hex")
    : hash("sha1", JSON.stringify(value), "hex");
}

/** Decides which (row, trial) pairs run, for --resume (skip what is done) and --retry-errors (only what failed). */
export interface RunPlan {
  take(rowKey: string, trial: number, rowIndex: number): boolean;
  /** For a pair taken: its earlier run to score again instead of running its task (--retry-errors). */
  prior?(rowKey: string, trial: number, rowIndex: number, row: EvalCase): PriorRun | undefined;
  /** True once no row read from now on would be taken (`--first N` has its N): the engine stops reading the data. */
  exhausted?(): boolean;
}

/** The key of a (row, trial) pair in the counts that --resume and --retry-errors work from. */
const pairKey = (rowKey: string, trial: number) => `${trial}\u0000${rowKey}`;

/** The key of one result: its (row, trial) pair at its place in the data (rows may share a row key). */
export const resultKey = (rowKey: string, trial: number, rowIndex: number) =>
  `${trial}\u0000${rowIndex}\u0000${rowKey}`;

/** A stored result's place: what a plan matches a row against. */
export interface StoredPair {
  key: string;
  trial: number;
  index: number;
}

/**
 * Skips the (row, trial) pairs `done` holds; runs the rest. A result is matched to the row at its own place in the
 * data first: rows may share a row key (a repeated question, a repeated id), and the one that errored or never
 * ran must be the one that runs. Only where the data has changed (the earlier run had another row at this place)
 * or a result's own place has already gone by unclaimed is it matched by key alone, so that reordered data keeps
 * its results. `keyAt` is the row key the earlier run had at each place (from all its results).
 */
export function skipDone(done: readonly StoredPair[], keyAt: ReadonlyMap<number, string>): RunPlan {
  const places = new Map<string, number[]>();
  for (const d of done) {
    const k = pairKey(d.key, d.trial);
    const list = places.get(k);
    if (list) list.push(d.index);
    else places.set(k, [d.index]);
  }
  return {
    take(key, trial, rowIndex) {
      const list = places.get(pairKey(key, trial));
      if (list === undefined || list.length === 0) return true;
      const own = list.indexOf(rowIndex);
      if (own >= 0) {
        list.splice(own, 1);
        return false;
      }
      const before = keyAt.get(rowIndex);
      // The earlier run had this row here: it lacks this pair.
      if (before === key) return true;
      let at = list.findIndex((index) => index < rowIndex);
      // Another row was here before: the data moved, and a result of this key anywhere is this row's.
      if (at < 0 && before !== undefined) at = 0;
      if (at < 0) return true;
      list.splice(at, 1);
      return false;
    },
  };
}

/** Runs only as many results of each (row, trial) at its place (see resultKey) as `wanted` counts. */
export function onlyThese(wanted: Map<string, number>): RunPlan {
  return {
    take(key, trial, rowIndex) {
      const k = resultKey(key, trial, rowIndex);
      const n = wanted.get(k) ?? 0;
      if (n === 0) return false;
      wanted.set(k, n - 1);
      return true;
    },
  };
}
