import { configure } from "safe-stable-stringify";
import { errorLine } from "../define/errors.js";

// Cycles and BigInts, which JSON.stringify throws on, as safe-stable-stringify writes them.
const tolerant = configure({ bigint: true, circularValue: "[Circular]", deterministic: false });

/**
 * JSON of any value a task or scorer returned, never throwing, so that no row is lost to its value: JSON.stringify
 * when it can (the fast path), then safe-stable-stringify for cycles and BigInts, and last a copy of the value in
 * which each part whose `toJSON` or getter throws is replaced by a marker naming the error.
 */
export function storableJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    // below
  }
  try {
    return tolerant(value);
  } catch {
    // below
  }
  try {
    return JSON.stringify(plainCopy(value, "", new Set()));
  } catch (error) {
    // Every path recurses: a value nested thousands of levels deep (a long linked list, a deep tree) overflows the
    // stack in each. The row keeps a marker instead of being lost.
    return JSON.stringify(marker("storing this value (nested too deeply?)", error));
  }
}

const marker = (what: string, error: unknown) => `[unserializable: ${what} threw ${errorLine(error)}]`;

/** A copy JSON.stringify cannot throw on: toJSON applied, getters read, cycles and failures as marker strings. */
function plainCopy(value: unknown, key: string, seen: Set<object>): unknown {
  let current = value;
  if (
    typeof current === "object" &&
    current !== null &&
    typeof (current as { toJSON?: unknown }).toJSON === "function"
  ) {
    try {
      current = (current as { toJSON(key: string): unknown }).toJSON(key);
    } catch (error) {
      return marker("toJSON()", error);
    }
  }
  if (typeof current === "bigint") return Number(current);
  if (typeof current !== "object" || current === null) return current;
  if (seen.has(current)) return "[Circular]";
  seen.add(current);
  try {
    if (Array.isArray(current)) return current.map((item, i) => plainCopy(item, String(i), seen));
    const copy: Record<string, unknown> = {};
    for (const name of Object.keys(current)) {
      let item: unknown;
      try {
        item = (current as Record<string, unknown>)[name];
      } catch (error) {
        copy[name] = marker(`reading "${name}"`, error);
        continue;
      }
      copy[name] = plainCopy(item, name, seen);
    }
    return copy;
  } finally {
    seen.delete(current);
  }
}
