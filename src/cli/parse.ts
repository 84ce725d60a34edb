import { InvalidArgumentError } from "commander";

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError("expected a positive whole number, e.g. 4.");
  }
  return n;
}

/** A per-row limit in ms: a positive whole number no longer than Node's longest timer. */
export function timeoutMs(value: string): number {
  const n = positiveInteger(value);
  if (n > 2_147_483_647)
    throw new InvalidArgumentError("expected at most 2147483647 ms (~24 days, Node's longest timer).");
  return n;
}

export function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError("expected a whole number (0 or more), e.g. 10.");
  }
  return n;
}

export function workerCount(value: string): number | "auto" {
  if (value.trim() === "auto") return "auto";
  if (!/^\d+$/.test(value.trim()))
    throw new InvalidArgumentError(
      'expected "auto" or a whole number of threads (0 runs rows in the main thread).',
    );
  // Too many digits to count is too many threads: capped with the others, not called "not a whole number".
  return Number(value);
}

export function rate(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new InvalidArgumentError("expected a fraction between 0 and 1, e.g. 0.05 for 5%.");
  }
  return n;
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
