import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { ownEntry } from "../util/own-package.js";

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

// The same evalrun copy and esbuild options: a different one may compile differently.
const KEY_VERSION = "1";
const cacheKey = () => `${KEY_VERSION}:${ownEntry()}`;

function manifestPath(dir: string, source: string): string {
  return path.join(dir, `${createHash("sha1").update(source).digest("hex").slice(0, 20)}.json`);
}

/** The cached bundle of `source` when nothing it was built from has changed. */
export function cachedBundle(dir: string, source: string): { bundle: string; inputs: string[] } | undefined {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath(dir, source), "utf8")) as Manifest;
  } catch {
    return undefined;
  }
  if (manifest.key !== cacheKey() || !existsSync(manifest.bundle)) return undefined;
  const expected = new Set([...manifest.inputs, ...contextFiles(source)]);
  if (expected.size !== manifest.stamps.length) return undefined;
  for (const [file, mtime, size] of manifest.stamps) {
    if (!expected.has(file)) return undefined;
    const [, now, nowSize] = stamp(file);
    if (now !== mtime || nowSize !== size) return undefined;
  }
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
}
