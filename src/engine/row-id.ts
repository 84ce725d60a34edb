import { randomUUID } from "node:crypto";

let prefix = "";
let next = 0x1_0000_0000_0000;

/**
 * A fresh result id in UUID v4 form: a random prefix per thread (74 random bits, version and variant kept) and a
 * counter in the last 12 hex digits. Unique as a random UUID is in practice, at a tenth of the cost (one
 * randomUUID() per 2^48 results instead of one per result; ~1.5 µs a row in W4).
 */
export function resultId(): string {
  if (next >= 0x1_0000_0000_0000) {
    prefix = randomUUID().slice(0, 24);
    next = 0;
  }
  return prefix + (next++).toString(16).padStart(12, "0");
}
