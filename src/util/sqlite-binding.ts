import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

let found: string | undefined | null = null;

/**
 * The better-sqlite3 addon file, for its `nativeBinding` option. Left alone, better-sqlite3 finds it through the
 * `bindings` package, which parses a stack trace and stats candidate paths: some 3 ms of every start-up. This
 * names build/Release, where npm builds it, unless a file in one of the two places `bindings` tries first would
 * have won; undefined (that, or no build/Release file) leaves the search to better-sqlite3 as before.
 */
export function sqliteBinding(): string | undefined {
  if (found !== null) return found;
  try {
    const release = createRequire(import.meta.url).resolve(
      "better-sqlite3/build/Release/better_sqlite3.node",
    );
    const build = path.dirname(path.dirname(release));
    const earlier = [
      path.join(build, "better_sqlite3.node"),
      path.join(build, "Debug", "better_sqlite3.node"),
    ];
    found = earlier.some((file) => existsSync(file)) ? undefined : release;
  } catch {
    found = undefined;
  }
  return found;
}
