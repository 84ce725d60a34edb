import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { ALWAYS_EXCLUDED } from "../loader/discover.js";

const GLOB_CHARS = /[*?{}[\]!]/;

/** A file a change to which could mean a new eval file, when the paths are directories. */
export const EVAL_FILE_NAME = /\.eval\.[cm]?[jt]sx?$/;

/** `dir`, or its nearest parent that exists (what to watch for a directory not created yet). */
export function existingAncestor(dir: string): string {
  let current = dir;
  while (!existsSync(current)) {
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return current;
}

/**
 * The directories where a new eval file would be found, as discovery searches them: a file's own directory, a
 * directory and every directory under it (skipping what discovery skips), a glob's fixed base and everything
 * under it. A path that does not exist yet is watched from its nearest existing parent.
 */
export async function searchDirectories(
  paths: string[],
  base: string,
  exclude: string[] | undefined,
): Promise<Set<string>> {
  const dirs = new Set<string>();
  const { default: fg } = await import("fast-glob");
  const ignore = [...ALWAYS_EXCLUDED, ...(exclude ?? [])];
  for (const given of paths) {
    const absolute = path.resolve(base, given);
    const info = await stat(absolute).catch(() => undefined);
    if (info?.isFile()) {
      dirs.add(path.dirname(absolute));
      continue;
    }
    let root = absolute;
    if (!info && GLOB_CHARS.test(given)) root = path.resolve(base, fg.generateTasks([given])[0]?.base ?? ".");
    if (!existsSync(root)) {
      dirs.add(existingAncestor(root));
      continue;
    }
    dirs.add(root);
    const below = await fg("**", { cwd: root, ignore, onlyDirectories: true, absolute: true, dot: false });
    for (const dir of below) dirs.add(path.normalize(dir));
  }
  return dirs;
}

/** Whether discovery could find a new eval file at `file` (its name fits, or a glob might match it). */
export function couldBeEvalFile(file: string, paths: string[]): boolean {
  return EVAL_FILE_NAME.test(file) || paths.some((p) => GLOB_CHARS.test(p));
}
