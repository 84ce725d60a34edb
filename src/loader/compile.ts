import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { isBuiltin } from "node:module";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { BuildOptions, BuildResult, Message, Plugin } from "esbuild";
import { EvalrunError } from "../define/errors.js";
import { ownEntry } from "../util/own-package.js";
import { tempNameFor } from "../util/temp-name.js";
import { cachedBundle, rememberBundle } from "./bundle-cache.js";

export interface CompiledFile {
  ok: true;
  source: string;
  /** Absolute path of the ESM bundle to import. */
  bundle: string;
  /** Local files the bundle was built from (for watch mode and caching). */
  inputs: string[];
}

export interface CompileFailure {
  ok: false;
  source: string;
  errors: CompileMessage[];
}

export interface CompileMessage {
  text: string;
  /** Absolute path of the file at fault (an eval file or a module it imports). */
  file: string | undefined;
  line: number | undefined;
  column: number | undefined;
  lineText: string | undefined;
  length: number;
}

const SHEBANG = /^#![^\n]*\n/;

/**
 * Gives each local module its own `__dirname`, `__filename` and `import.meta.url` naming its source file, so
 * fixtures beside an eval file load as they would when run in place. The bindings are prepended on the first line
 * (keeping line numbers, so source maps stay exact) and the names are rewritten to them with `define`; esbuild
 * renames each module's copy apart when it hoists modules into one scope, and a user's own declaration of
 * `__dirname` shadows the define as any local would.
 */
const sourceLocationPlugin: Plugin = {
  name: "evalrun-source-location",
  setup(build) {
    build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const source = readFileSync(args.path, "utf8");
      if (!/__dirname|__filename|import\.meta/.test(source)) return undefined;
      const url = JSON.stringify(pathToFileURL(args.path).href);
      // import.meta.resolve from the source's place (the bundle's is a temporary directory): a relative specifier
      // as ESM resolves one, a package through Node's resolution from the source file.
      const prelude =
        `var __evalrun_dirname=${JSON.stringify(path.dirname(args.path))},` +
        `__evalrun_filename=${JSON.stringify(args.path)},` +
        `__evalrun_url=${url},` +
        `__evalrun_resolve=(s)=>/^[a-z][a-z0-9+.-]*:/i.test(s)?s:/^\\.{0,2}\\//.test(s)?new URL(s,${url}).href:__evalrun_toUrl(__evalrun_createRequire(${url}).resolve(s)).href;`;
      const shebang = SHEBANG.exec(source)?.[0] ?? "";
      const ext = path.extname(args.path).slice(1).replace(/^[cm]/, "") as "ts" | "tsx" | "js" | "jsx";
      return { contents: shebang + prelude + source.slice(shebang.length), loader: ext };
    });
  },
};

const LOCATION_DEFINES = {
  __dirname: "__evalrun_dirname",
  __filename: "__evalrun_filename",
  "import.meta.url": "__evalrun_url",
  "import.meta.dirname": "__evalrun_dirname",
  "import.meta.filename": "__evalrun_filename",
  "import.meta.resolve": "__evalrun_resolve",
};

/**
 * Packages stay external (loaded from the user's node_modules, as `packages: 'external'` would), but each is
 * resolved at build time from the importing file, so the bundle can live outside the project. A bare import
 * that resolves to a local file (tsconfig paths, a workspace package's sources) is bundled like any local file.
 * `evalrun` itself falls back to the running copy when the project does not install it.
 */
const externalPackagesPlugin: Plugin = {
  name: "evalrun-external-packages",
  setup(build) {
    // Next.js's `server-only` throws unless the react-server condition is set, which only Next's server sets: an
    // eval runs on the server by definition, so it is the empty module Next resolves it to there.
    build.onLoad({ filter: /.*/, namespace: "evalrun-empty" }, () => ({
      contents: "export {};",
      loader: "js",
    }));
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === "evalrun-resolving" || path.isAbsolute(args.path)) return undefined;
      if (args.path === "server-only") return { path: args.path, namespace: "evalrun-empty" };
      if (isBuiltin(args.path)) return { path: args.path, external: true };
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: "evalrun-resolving",
      });
      const isSelf = args.path === "evalrun" || args.path.startsWith("evalrun/");
      // import takes a file URL; require() a path (it reads "file:///..." as a module name).
      const external = (file: string) => ({
        path:
          args.kind === "require-call" || args.kind === "require-resolve" ? file : pathToFileURL(file).href,
        external: true,
      });
      if (resolved.errors.length > 0) {
        if (args.path === "evalrun") return external(ownEntry());
        return { errors: resolved.errors };
      }
      if (resolved.external) return { path: resolved.path, external: true };
      // evalrun's own sources (tsconfig paths in this repository, a link to a checkout) cannot be imported by
      // Node; the running copy's built entry stands in for them.
      if (isSelf && /\.[cm]?tsx?$/.test(resolved.path)) return external(ownEntry());
      const inPackage = resolved.path.split(path.sep).includes("node_modules");
      // A package's JSON is bundled, as a local JSON file is: loaded by Node, it would need `with { type: "json" }`,
      // which the rewritten import loses (and CommonJS-style TypeScript never writes).
      if (inPackage && !isSelf && resolved.path.endsWith(".json")) return { path: resolved.path };
      if (inPackage || isSelf) return external(resolved.path);
      return { path: resolved.path };
    });
  },
};

function bundleDir(): string {
  const user = typeof process.getuid === "function" ? process.getuid() : "user";
  return path.join(os.tmpdir(), `evalrun-${user}`, "bundles");
}

function toMessage(m: Message, base: string): CompileMessage {
  const at = m.location;
  // esbuild counts columns and lengths in UTF-8 bytes; editors, and the code frame cutting lineText, in characters.
  const chars = (from: number, bytes: number) =>
    at?.lineText === undefined
      ? bytes
      : Buffer.from(at.lineText)
          .subarray(from, from + bytes)
          .toString("utf8").length;
  return {
    text: m.text,
    file: at?.file ? path.resolve(base, at.file) : undefined,
    line: at?.line,
    column: at ? chars(0, at.column) : undefined,
    lineText: at?.lineText,
    length: at ? chars(at.column, at.length ?? 1) : 1,
  };
}

/**
 * `require()` in an eval file (as Braintrust's CommonJS-compiled eval files may use it): an ESM bundle has none, and
 * esbuild's stand-in for an unbundled `require("fs")` threw "Dynamic require of "fs" is not supported". Packages are
 * required by absolute path (externalPackagesPlugin); what it cannot see (`require(name)` with a variable,
 * `require.resolve`) resolves from the eval file's place, as it would run in place, not from the bundle's temporary
 * one. esbuild renames a module's own top-level `require` apart from this one, since its stand-in refers to the
 * global name.
 */
function requireBanner(source: string): string {
  return (
    'import { createRequire as __evalrun_createRequire } from "node:module"; ' +
    'import { pathToFileURL as __evalrun_toUrl } from "node:url"; ' +
    `const require = __evalrun_createRequire(${JSON.stringify(pathToFileURL(source).href)});`
  );
}

/**
 * Whether the tsconfig nearest the eval says `"jsx": "preserve"` (Next.js writes it: Next compiles JSX itself, with
 * the automatic runtime). esbuild then emits classic React.createElement calls that fail with "React is not
 * defined" in components that never import React; the automatic runtime is what such a project means.
 */
function preservesJsx(source: string): boolean {
  for (let dir = path.dirname(source); ; dir = path.dirname(dir)) {
    const file = path.join(dir, "tsconfig.json");
    if (existsSync(file)) {
      try {
        const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, "");
        return /"jsx"\s*:\s*"preserve"/.test(text);
      } catch {
        return false;
      }
    }
    if (path.dirname(dir) === dir) return false;
  }
}

/** esbuild's options for one eval file; watch mode builds an incremental context from the same. */
/**
 * Declared, not inferred: the inferred type (`jsx?: "automatic" | undefined`) reached the published declarations,
 * which a project with `exactOptionalPropertyTypes` then failed to type-check (the optional `jsx` is undefined).
 */
type CompileOptions = BuildOptions & { write: false };

export function buildOptions(source: string): CompileOptions {
  return {
    ...(preservesJsx(source) && { jsx: "automatic" as const }),
    entryPoints: [source],
    absWorkingDir: path.dirname(source),
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    // Resolve packages' exports as Node does: esbuild's implicit `module` condition (which Node never uses) would
    // load another file than Node (two copies of a dual package: instanceof fails; uuid@9's ESM read as CommonJS).
    conditions: [],
    target: "node20",
    sourcemap: "inline",
    sourcesContent: false,
    metafile: true,
    // Scorer names come from function names; hoisting modules into one scope would otherwise rename them.
    keepNames: true,
    logLevel: "silent",
    outfile: path.join(bundleDir(), "out.mjs"),
    define: LOCATION_DEFINES,
    banner: { js: requireBanner(source) },
    plugins: [externalPackagesPlugin, sourceLocationPlugin],
  } satisfies BuildOptions;
}

/** The failure of a build that stopped on errors in the user's code; undefined for anything else. */
export function compileFailure(source: string, error: unknown): CompileFailure | undefined {
  const failure = error as { errors?: Message[] };
  if (!failure.errors) return undefined;
  return { ok: false, source, errors: failure.errors.map((m) => toMessage(m, path.dirname(source))) };
}

/** Writes a build's output as a bundle named by its content and lists the local files it came from. */
export async function emitBundle(source: string, result: BuildResult<CompileOptions>) {
  const output = result.outputFiles?.[0];
  if (!output) throw new Error(`esbuild produced no output for ${source}`);
  const hash = createHash("sha256").update(output.contents).digest("hex").slice(0, 20);
  const dir = bundleDir();
  const bundle = path.join(dir, `${path.basename(source).replace(/\W+/g, "_")}-${hash}.mjs`);
  if (!existsSync(bundle)) {
    try {
      await mkdir(dir, { recursive: true });
      // Write then rename, so a concurrent evalrun never imports a half-written bundle.
      const temp = tempNameFor(bundle);
      await writeFile(temp, output.contents);
      await rename(temp, bundle);
    } catch (error) {
      // Compiled files go to the OS temp directory: a TMPDIR that is a file, or full, stops every run.
      const e = error as NodeJS.ErrnoException;
      throw new EvalrunError(
        "USAGE",
        `Cannot write compiled eval files to ${dir} (${e.code ?? "error"}: ${e.message.replace(/^[A-Z]+: /, "")}).`,
        `They go to the temp directory (${os.tmpdir()}, from TMPDIR): point TMPDIR at a writable directory.`,
      );
    }
  }
  const cwd = path.dirname(source);
  const inputs = Object.keys(result.metafile?.inputs ?? {})
    .filter((input) => !input.includes(":"))
    .map((input) => path.resolve(cwd, input));
  const compiled: CompiledFile = { ok: true, source, bundle, inputs };
  return compiled;
}

/** Remembers a compiled file so the next run can reuse its bundle without esbuild. */
export function rememberCompiled(compiled: CompiledFile): Promise<void> {
  return rememberBundle(bundleDir(), compiled.source, compiled.bundle, compiled.inputs);
}

/** Bundles one eval file to an ESM module with an inline source map; never throws for user mistakes. */
export async function compileEvalFile(source: string): Promise<CompiledFile | CompileFailure> {
  const cached = cachedBundle(bundleDir(), source);
  if (cached) return { ok: true, source, ...cached };
  const esbuild = await import("esbuild");
  let result: BuildResult<CompileOptions>;
  try {
    result = await esbuild.build(buildOptions(source));
  } catch (error) {
    const failure = compileFailure(source, error);
    if (!failure) throw error;
    return failure;
  }
  const compiled = await emitBundle(source, result);
  await rememberCompiled(compiled);
  return compiled;
}
