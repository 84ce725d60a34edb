// Builds dist/: the CLI, the public entry, the worker entry and the store's writer-thread entry as ESM with shared chunks (esbuild), then the
// public types (tsc). Pure-JS dependencies are bundled in, so start-up reads a few files instead of resolving
// dozens of modules; packages with their own binaries or their own worker files stay external. better-sqlite3's
// JavaScript is bundled too, and drives the installed addon when that is of the same version
// (src/util/sqlite-binding.ts); otherwise the installed package is required as a whole.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import * as esbuild from "esbuild";

const sqlite = JSON.parse(
  readFileSync(createRequire(import.meta.url).resolve("better-sqlite3/package.json"), "utf8"),
);

// commander requires node:child_process at load, for executable subcommands evalrun does not have; loading it (and
// net, dgram and streams with it) cost every start ~5 ms. The require is deferred to the first use.
const lazyChildProcess = {
  name: "lazy-child-process",
  setup(build) {
    build.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const source = readFileSync(args.path, "utf8");
      const eager = "const childProcess = require('node:child_process');";
      if (!source.includes(eager)) throw new Error(`build: ${args.path} no longer has: ${eager}`);
      const lazy = "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };";
      return { contents: source.replace(eager, lazy), loader: "js" };
    });
  },
};

rmSync("dist", { recursive: true, force: true });
await esbuild.build({
  entryPoints: {
    bin: "src/cli/bin.ts",
    index: "src/index.ts",
    worker: "src/engine/worker.ts",
  },
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: ["esbuild", "tinypool", "undici"],
  define: { EVALRUN_BUNDLED_SQLITE: JSON.stringify(sqlite.version) },
  // Bundled CommonJS dependencies call require() for node built-ins.
  banner: {
    js: 'import { createRequire as __evalrunRequire } from "node:module"; const require = __evalrunRequire(import.meta.url);',
  },
  // No source maps: with them enabled (the CLI does, for eval files), Node would parse ours at every start.
  chunkNames: "chunks/[name]-[hash]",
  logLevel: "warning",
  plugins: [lazyChildProcess],
  // Whitespace and syntax minified, names kept (an internal error's trace still names its functions): 450 -> 300 KB
  // to parse at start-up, and W2 0.03-0.05 s and W4 0.06 s faster in interleaved runs.
  minifyWhitespace: true,
  minifySyntax: true,
});
// The store's writer thread shares no state with the rest (it is a thread of its own), so it is one file built apart:
// as an entry of the build above, the modules it shares with the CLI made chunks of their own, loaded by every run.
await esbuild.build({
  entryPoints: { "store-writer": "src/store/write-thread-entry.ts" },
  outdir: "dist",
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  define: { EVALRUN_BUNDLED_SQLITE: JSON.stringify(sqlite.version) },
  banner: {
    js: 'import { createRequire as __evalrunRequire } from "node:module"; const require = __evalrunRequire(import.meta.url);',
  },
  logLevel: "warning",
  minifyWhitespace: true,
  minifySyntax: true,
});
execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], {
  stdio: "inherit",
});
