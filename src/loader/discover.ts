import { realpathSync } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { EvalrunError } from "../define/errors.js";

export const EVAL_FILE_GLOB = "**/*.eval.{ts,mts,cts,tsx,js,mjs,cjs,jsx}";
export const ALWAYS_EXCLUDED = [
  "**/node_modules/**",
  "**/dist/**",
  "**/build/**",
  "**/.git/**",
  "**/.evalrun/**",
];

const GLOB_CHARS = /[*?{}[\]!]/;

export interface DiscoverOptions {
  /** Directory the paths are relative to. */
  base: string;
  /** Extra exclusion globs. */
  exclude?: string[];
  /** Directory the exclusion globs are relative to (the config's), when not `base` (paths given as flags). */
  excludeBase?: string;
  /** The config file whose `paths` these are, when they came from it (not from the command line). */
  fromConfig?: string | undefined;
}

/**
 * Turns `evalrun [paths...]` into eval files: a file is used as given, a directory is searched for eval files,
 * and anything with glob characters is a glob. Returns absolute paths, sorted, without duplicates.
 */
export async function discoverEvalFiles(paths: string[], options: DiscoverOptions): Promise<string[]> {
  const found = new Set<string>();
  const ignore = [...ALWAYS_EXCLUDED, ...(options.exclude ?? [])];
  for (const given of paths) {
    const absolute = path.resolve(options.base, given);
    const info = await stat(absolute).catch(() => undefined);
    if (info?.isFile()) {
      found.add(absolute);
      continue;
    }
    if (!info && !GLOB_CHARS.test(given)) {
      throw new EvalrunError(
        "PATH_NOT_FOUND",
        `The path "${given}" does not exist (looked for ${absolute})${options.fromConfig ? `; it is in the paths of ${options.fromConfig}` : ""}.`,
        options.fromConfig
          ? "Fix the config's paths (relative to the config file), or remove them to search the config's directory."
          : "Pass eval files or directories that exist, or run evalrun with no paths to search the current directory (or, with a config, its paths).",
      );
    }
    // fast-glob costs ~50 ms to load; only pay it when a directory or glob needs searching.
    const { default: fg } = await import("fast-glob");
    // A directory under the base is searched from the base, so that `exclude` globs are relative to it, as
    // written in the config (`exclude: ["evals/wip/**"]` beside `paths: ["evals"]`); one outside it, from itself.
    const inside = info ? path.relative(options.base, absolute) : "";
    const fromBase = !info || (!inside.startsWith("..") && !path.isAbsolute(inside));
    const pattern = !info
      ? given
      : fromBase && inside !== ""
        ? `${fg.escapePath(toGlobPath(inside))}/${EVAL_FILE_GLOB}`
        : EVAL_FILE_GLOB;
    const cwd = fromBase ? options.base : absolute;
    const matches = await fg(pattern, { cwd, ignore, absolute: true, onlyFiles: true, dot: false });
    for (const match of matches) found.add(path.normalize(match));
  }
  // The config's globs are written relative to the config; paths given on the command line are searched from the
  // working directory, so there the globs are matched apart, against the files they name from the config's.
  const { exclude, excludeBase } = options;
  if (
    exclude &&
    exclude.length > 0 &&
    excludeBase &&
    path.resolve(excludeBase) !== path.resolve(options.base)
  ) {
    const { default: fg } = await import("fast-glob");
    const excluded = new Set(
      (await fg(exclude, { cwd: excludeBase, absolute: true, onlyFiles: true, ignore: ALWAYS_EXCLUDED })).map(
        (f) => path.normalize(f),
      ),
    );
    for (const file of excluded) found.delete(file);
  }
  return onePathEach([...found]);
}

const NEAR_MISS_GLOB = "**/*{.evals,-eval,_eval,.Eval,.EVAL}.{ts,mts,cts,tsx,js,mjs,cjs,jsx}";

/**
 * Files a search found nothing beside that look meant as eval files (`router.evals.ts`, `router-eval.ts`), each
 * with the name it needs; only asked for when nothing matched, so the search costs nothing otherwise.
 */
export async function nearMissEvalFiles(
  paths: string[],
  base: string,
  exclude: { globs: readonly string[] | undefined; base: string },
): Promise<{ file: string; rename: string }[]> {
  const { default: fg } = await import("fast-glob");
  const found = new Set<string>();
  for (const given of paths) {
    const absolute = path.resolve(base, given);
    const info = await stat(absolute).catch(() => undefined);
    if (!info?.isDirectory()) continue;
    const matches = await fg(NEAR_MISS_GLOB, {
      cwd: absolute,
      ignore: ALWAYS_EXCLUDED,
      absolute: true,
      onlyFiles: true,
    });
    for (const match of matches) found.add(path.normalize(match));
  }
  // Renamed, a file the config excludes would still not run.
  if (exclude.globs && exclude.globs.length > 0) {
    const excluded = await fg([...exclude.globs], { cwd: exclude.base, absolute: true, onlyFiles: true });
    for (const file of excluded) found.delete(path.normalize(file));
  }
  return [...found].sort().map((file) => ({
    file,
    rename: path.basename(file).replace(/(\.evals|-eval|_eval|\.eval)(\.[a-z]+)$/i, ".eval$2"),
  }));
}

/**
 * One path per file, the shortest: a symlinked directory leading back into the tree (`sub/up -> ..`) made the
 * search find each eval file again under every path through it, each a "duplicate eval".
 */
function onePathEach(files: string[]): string[] {
  if (files.length < 2) return files;
  const byFile = new Map<string, string>();
  for (const file of files.sort((a, b) => a.length - b.length || (a < b ? -1 : 1))) {
    let real: string;
    try {
      real = realpathSync(file);
    } catch {
      real = file;
    }
    if (!byFile.has(real)) byFile.set(real, file);
  }
  return [...byFile.values()].sort();
}

/** Glob patterns use "/" on every platform. */
const toGlobPath = (relative: string) => relative.split(path.sep).join("/");
