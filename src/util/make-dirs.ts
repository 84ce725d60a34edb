import { existsSync, mkdirSync, statSync } from "node:fs";
import path from "node:path";

/**
 * `mkdir -p`, one directory at a time. Node 20's `mkdirSync(dir, { recursive: true })` loops forever where a parent
 * refuses new entries with ENOENT (under /proc): a bad --outfile or --store path hung evalrun at full CPU.
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  let at = path.resolve(dir);
  while (!existsSync(at)) {
    missing.unshift(at);
    const parent = path.dirname(at);
    if (parent === at) break;
    at = parent;
  }
  if (existsSync(at) && !statSync(at).isDirectory()) throw new Error(`${at} is a file, not a directory`);
  for (const made of missing) {
    try {
      mkdirSync(made);
    } catch (error) {
      // Another process made it in between (two runs started at once in a fresh checkout): it exists, as wanted.
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || !statSync(made).isDirectory()) throw error;
    }
  }
}
