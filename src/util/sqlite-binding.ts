import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import BundledSqlite from "better-sqlite3";
import { EvalrunError } from "../define/errors.js";

const require = createRequire(import.meta.url);

/** The version of better-sqlite3 whose JavaScript scripts/build.mjs bundled; not defined when run from src/. */
declare const EVALRUN_BUNDLED_SQLITE: string | undefined;

interface Installed {
  /** The addon file, when naming it gives what `bindings` would find. */
  binding: string | undefined;
  version: string | undefined;
}

let installed: Installed | undefined;

function find(): Installed {
  if (installed) return installed;
  try {
    const release = createRequire(import.meta.url).resolve(
      "better-sqlite3/build/Release/better_sqlite3.node",
    );
    const build = path.dirname(path.dirname(release));
    const earlier = [
      path.join(build, "better_sqlite3.node"),
      path.join(build, "Debug", "better_sqlite3.node"),
    ];
    const manifest = path.join(path.dirname(build), "package.json");
    installed = {
      binding: earlier.some((file) => existsSync(file)) ? undefined : release,
      version: (JSON.parse(readFileSync(manifest, "utf8")) as { version?: string }).version,
    };
  } catch {
    installed = { binding: undefined, version: undefined };
  }
  return installed;
}

/**
 * The better-sqlite3 addon file, for its `nativeBinding` option. Left alone, better-sqlite3 finds it through the
 * `bindings` package, which parses a stack trace and stats candidate paths: some 3 ms of every start-up. This
 * names build/Release, where npm builds it, unless a file in one of the two places `bindings` tries first would
 * have won; undefined (that, or no build/Release file) leaves the search to better-sqlite3 as before.
 */
export function sqliteBinding(): string | undefined {
  return find().binding;
}

/**
 * better-sqlite3's Database class from the copy of its JavaScript bundled into dist/, when it can drive the
 * installed addon: the addon file is known (the bundled copy cannot search for it) and is of the same version.
 * Requiring the installed package instead reads 13 CommonJS files, ~8 ms of start-up. Undefined otherwise.
 */
export function bundledSqlite(): typeof BundledSqlite | undefined {
  if (typeof EVALRUN_BUNDLED_SQLITE !== "string") return undefined;
  const { binding, version } = find();
  return binding && version === EVALRUN_BUNDLED_SQLITE ? BundledSqlite : undefined;
}

/**
 * A connection to a SQLite file (or ":memory:"), the way every evalrun connection is made: the bundled
 * better-sqlite3 when it can drive the installed addon, else the installed package; and a busy timeout, so two
 * connections (two evalrun processes, or the main thread and the store's writer thread) take turns to write.
 */
export function sqliteConnection(location: string): BundledSqlite.Database {
  const Sqlite = bundledSqlite() ?? (require("better-sqlite3") as typeof BundledSqlite);
  try {
    return new Sqlite(location, { timeout: 10_000, nativeBinding: sqliteBinding() });
  } catch (error) {
    throw addonProblem(error) ?? error;
  }
}

/**
 * The addon not built (its install script skipped: `--ignore-scripts`, pnpm's or npm's blocked build scripts) or
 * built for another Node: said as what it is, since every store, the in-memory one too, needs it.
 */
function addonProblem(error: unknown): EvalrunError | undefined {
  const message = error instanceof Error ? error.message : "";
  const code = (error as { code?: string } | null)?.code;
  const missing = message.startsWith("Could not locate the bindings file");
  if (!missing && code !== "ERR_DLOPEN_FAILED") return undefined;
  const what = missing
    ? "is not built: its install script did not run (npm's --ignore-scripts or ignore-scripts=true, or a package manager that blocks dependencies' build scripts)"
    : `cannot be loaded (${message.split("\n")[0]}): it was built for another Node.js version or platform`;
  return new EvalrunError(
    "SQLITE_ADDON",
    `better-sqlite3's native addon, which evalrun's store needs, ${what}.`,
    "Run `npm rebuild better-sqlite3` in the project (it compiles SQLite when no prebuilt binary can be downloaded: python3, make and a C++ compiler are needed), or allow its install script (pnpm approve-builds), then run evalrun again.",
    { cause: error },
  );
}
