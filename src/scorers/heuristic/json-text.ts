import { configure } from "safe-stable-stringify";

// Sorted keys make the text independent of key order; bigint and cycles would make JSON.stringify throw.
const stringify = configure({ bigint: true, circularValue: "[Circular]", deterministic: true });

/** JSON with object keys sorted, so that objects differing only in key order give the same text. */
export function canonicalJson(value: unknown): string | undefined {
  return stringify(value);
}

/** A value as text: a string as it is, an object or array as canonical JSON, anything else as String() does. */
export function toText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null) return canonicalJson(value) ?? String(value);
  return String(value);
}

/** An object or array (not null). */
export function isStructured(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

/**
 * The object or array a string holds as JSON, else undefined. Only text starting with `{` or `[` (after JSON
 * whitespace) can hold one, so most strings are rejected without a parse and its exception.
 */
export function parseStructured(text: string): object | undefined {
  let i = 0;
  let c = text.charCodeAt(0);
  while (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) c = text.charCodeAt(++i);
  if (c !== 0x7b && c !== 0x5b) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isStructured(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
