// Builds dist/: the CLI and the public entry as ESM with shared chunks (esbuild), then the public types (tsc).
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import * as esbuild from "esbuild";

rmSync("dist", { recursive: true, force: true });
await esbuild.build({
  entryPoints: { bin: "src/cli/bin.ts", index: "src/index.ts", worker: "src/engine/worker.ts" },
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  sourcemap: "linked",
  chunkNames: "chunks/[name]-[hash]",
  logLevel: "warning",
});
execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], {
  stdio: "inherit",
});
