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
import { tempNameFor } from "../util/temp-name.js";
import { evalrunVersion } from "../util/version.js";

/**
 * Remembers which bundle an eval file compiled to and from which files, so an unchanged eval skips esbuild (and
 * loading it) altogether. A bundle is reused only when every input file, the project's package.json, its
 * installed packages (node_modules/.package-lock.json), the nearest tsconfig.json and the files of compileContext
 * (configs it extends, the package.json and tsconfig of each input's package) are as they were, and when evalrun
 * itself is the same copy.
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

/** The `extends` targets of a tsconfig that are files (relative or absolute), followed through their own. */
function extendedConfigs(tsconfig: string, seen: Set<string>): void {
  if (seen.has(tsconfig)) return;
  seen.add(tsconfig);
  let text: string;
  try {
    text = readFileSync(tsconfig, "utf8");
  } catch {
    return;
  }
  // JSON with comments and trailing commas: only the "extends" value is wanted, so it is matched, not parsed.
  const match = /"extends"\s*:\s*("(?:[^"\\]|\\.)*"|\[[^\]]*\])/.exec(text);
  if (!match) return;
  const targets = [...(match[1] as string).matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] as string);
  for (const target of targets) {
    // A package's config (@tsconfig/node20) changes with an install, which .package-lock.json stamps.
    if (!target.startsWith(".") && !path.isAbsolute(target)) continue;
    const resolved = path.resolve(path.dirname(tsconfig), target);
    const file = existsSync(resolved) ? resolved : `${resolved}.json`;
    extendedConfigs(file, seen);
  }
}

/**
 * Every file whose change can change a bundle besides its inputs, worked out when it is built: the eval's context
 * files, and for each directory an input lives in (a workspace package's source, say) the nearest tsconfig.json
 * with the configs it extends and the nearest package.json (its `exports` pick what an import resolves to).
 */
export function compileContext(source: string, inputs: readonly string[]): string[] {
  const files = new Set(contextFiles(source));
  const dirs = new Set([path.dirname(source), ...inputs.map((input) => path.dirname(input))]);
  const tsconfigs = new Set<string>();
  for (const dir of dirs) {
    const tsconfig = nearest(dir, "tsconfig.json");
    if (tsconfig) extendedConfigs(tsconfig, tsconfigs);
    const pkg = nearest(dir, "package.json");
    if (pkg) files.add(pkg);
  }
  for (const tsconfig of tsconfigs) files.add(tsconfig);
  return [...files];
}

// The same evalrun copy, version and esbuild options: another may compile differently (an upgrade in place keeps
// the path). KEY_VERSION changes with the options between releases; 2: `require` (compile.ts's banner); 3: the
// context worked out at build time (compileContext), which older manifests lack, and conditions: [].
const KEY_VERSION = "3";
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
  // Every stamp as it was (the inputs, and the context worked out at build time: configs an input's tsconfig
  // extends...), and the eval's own context among them (a tsconfig.json created nearer since is a change too).
  const stamped = new Set<string>();
  for (const [input, mtime, size] of manifest.stamps) {
    const [, now, nowSize] = stamp(input);
    if (now !== mtime || nowSize !== size) return undefined;
    stamped.add(input);
  }
  for (const file of [...manifest.inputs, ...contextFiles(source)]) if (!stamped.has(file)) return undefined;
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
  const files = [...new Set([...inputs, ...compileContext(source, inputs)])];
  const manifest: Manifest = { key: cacheKey(), bundle, inputs, stamps: files.map(stamp) };
  await mkdir(dir, { recursive: true });
  const file = manifestPath(dir, source);
  const temp = tempNameFor(file);
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
