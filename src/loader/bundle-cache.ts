import { createHash } from "node:crypto";
import {
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { ownEntry } from "../util/own-package.js";
import { evalrunVersion } from "../util/version.js";

/**
 * Remembers which bundle an eval file compiled to and from which files, so an unchanged eval skips esbuild (and
 * loading it) altogether. A bundle is reused only when every input file, the project's package.json, its
 * installed packages (node_modules/.package-lock.json) and the nearest tsconfig.json are as they were, and when
 * evalrun itself is the same copy.
 */
interface Manifest {
  key: string;
  bundle: string;
  inputs: string[];
  /** [path, mtimeMs, size] of each input and context file (size -1: the file did not exist). */
  stamps: Array<[string, number, number]>;
}

function stamp(file: string): [string, number, number] {
  try {
    const s = statSync(file);
    return [file, s.mtimeMs, s.size];
  } catch {
    return [file, 0, -1];
  }
}

function nearest(start: string, name: string): string | undefined {
  let dir = start;
  for (;;) {
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Files whose change can change a bundle without any of its inputs changing. */
export function contextFiles(source: string): string[] {
  const dir = path.dirname(source);
  const pkg = nearest(dir, "package.json");
  const files = [
    nearest(dir, "tsconfig.json"),
    pkg,
    nearest(dir, path.join("node_modules", ".package-lock.json")),
  ];
  return files.filter((f): f is string => f !== undefined);
}

// The same evalrun copy, version and esbuild options: another may compile differently (an upgrade in place keeps
// the path). KEY_VERSION changes with the options between releases; 2: `require` (compile.ts's banner).
const KEY_VERSION = "2";
const cacheKey = () => `${KEY_VERSION}:${evalrunVersion()}:${ownEntry()}`;

function manifestPath(dir: string, source: string): string {
  return path.join(dir, `${createHash("sha1").update(source).digest("hex").slice(0, 20)}.json`);
}

const DAY_MS = 86_400_000;
/** Bundles and manifests unused for this long are removed (see pruneBundles); each edit of an eval file, and each
 * project directory, leaves one, and the directory otherwise only grows. */
export const UNUSED_FOR_MS = 7 * DAY_MS;

/** Marks a cache file as used (its mtime), at most once a day, so that pruning spares what runs still reuse. */
function markUsed(file: string, now = Date.now()): boolean {
  try {
    if (now - statSync(file).mtimeMs >= DAY_MS) utimesSync(file, now / 1000, now / 1000);
    return true;
  } catch {
    return false;
  }
}

/** The cached bundle of `source` when nothing it was built from has changed. */
export function cachedBundle(dir: string, source: string): { bundle: string; inputs: string[] } | undefined {
  let manifest: Manifest;
  const file = manifestPath(dir, source);
  try {
    manifest = JSON.parse(readFileSync(file, "utf8")) as Manifest;
  } catch {
    return undefined;
  }
  if (manifest.key !== cacheKey()) return undefined;
  const expected = new Set([...manifest.inputs, ...contextFiles(source)]);
  if (expected.size !== manifest.stamps.length) return undefined;
  for (const [input, mtime, size] of manifest.stamps) {
    if (!expected.has(input)) return undefined;
    const [, now, nowSize] = stamp(input);
    if (now !== mtime || nowSize !== size) return undefined;
  }
  // Only a hit is marked used (and the bundle's stat doubles as its existence check).
  if (!markUsed(manifest.bundle)) return undefined;
  markUsed(file);
  return { bundle: manifest.bundle, inputs: manifest.inputs };
}

export async function rememberBundle(
  dir: string,
  source: string,
  bundle: string,
  inputs: string[],
): Promise<void> {
  const files = [...new Set([...inputs, ...contextFiles(source)])];
  const manifest: Manifest = { key: cacheKey(), bundle, inputs, stamps: files.map(stamp) };
  await mkdir(dir, { recursive: true });
  const file = manifestPath(dir, source);
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(manifest));
  await rename(temp, file);
  // An unchanged bundle is not written again: it is in use from now on, whatever its age.
  markUsed(bundle);
  pruneBundles(dir);
}

let pruned = false;

/**
 * Removes the cache files of `dir` unused for UNUSED_FOR_MS (and temporary files a killed process left) when a new
 * bundle is written, at most once a day (a marker file says when it last ran) and once per process. It runs in
 * turn, not in the background: a run ends with process.exit, which would cut a listing of thousands of files
 * short, every day at the same place. A run that compiles has paid esbuild already (100-300 ms); the listing
 * costs ~1 ms per 150 files here (21,700 took 0.15 s). Best effort: a file another process removes first, or
 * cannot be removed, is skipped.
 */
export function pruneBundles(dir: string, now = Date.now()): number {
  if (pruned) return 0;
  pruned = true;
  const marker = path.join(dir, ".last-prune");
  try {
    if (now - statSync(marker).mtimeMs < DAY_MS) return 0;
  } catch {
    // never pruned yet
  }
  let removed = 0;
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    if (file === marker) continue;
    try {
      const limit = name.endsWith(".tmp") ? DAY_MS : UNUSED_FOR_MS;
      if (now - statSync(file).mtimeMs < limit) continue;
      unlinkSync(file);
      removed++;
    } catch {
      // gone already, or not ours to remove
    }
  }
  try {
    writeFileSync(marker, "");
    utimesSync(marker, now / 1000, now / 1000);
  } catch {
    // the next compile tries again
  }
  return removed;
}

/** For tests: lets pruneBundles() run again in this process, whenever it last ran. */
export function resetPruned(dir?: string): void {
  pruned = false;
  if (dir) rmSync(path.join(dir, ".last-prune"), { force: true });
}
