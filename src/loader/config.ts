import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { type EvalrunConfig, GATE_CONFIG_KEYS } from "../define/config.js";
import { describeValue, EvalrunError, errorLine } from "../define/errors.js";
import { ExitCalled, guardExit } from "../engine/exit-guard.js";
import { withoutSecrets } from "../util/secrets.js";
import { closestName } from "../util/suggest.js";
import { compileEvalFile } from "./compile.js";
import { formatCompileMessage } from "./format-compile.js";

export const CONFIG_NAMES = [
  "evalrun.config.ts",
  "evalrun.config.mts",
  "evalrun.config.mjs",
  "evalrun.config.js",
  "evalrun.config.cts",
  "evalrun.config.cjs",
];

export interface LoadedConfig {
  config: EvalrunConfig;
  /** Absolute path of the config file, when there is one. */
  file: string | undefined;
  /** Directory that relative paths in the config are resolved against. */
  dir: string;
  /** Local files the config was built from (watch mode restarts when one changes). */
  inputs: string[];
}

/** The nearest config file from `cwd` up to the project root (the nearest directory with a package.json). */
export function findConfigFile(cwd: string): string | undefined {
  let dir = cwd;
  for (;;) {
    const found = CONFIG_NAMES.map((name) => path.join(dir, name)).filter((file) => existsSync(file));
    if (found.length > 1) {
      // One would silently win (`evalrun init` beside a user's .mjs config used to add a .ts one that did).
      throw new EvalrunError(
        "CONFIG",
        `There are ${found.length} config files in ${dir}: ${found.map((f) => path.basename(f)).join(", ")}; evalrun would use only the first.`,
        "Keep one (merge their settings into it), or name the one to use with --config.",
      );
    }
    if (found[0]) return found[0];
    const parent = path.dirname(dir);
    if (existsSync(path.join(dir, "package.json")) || parent === dir) return undefined;
    dir = parent;
  }
}

export async function loadConfig(cwd: string, explicit?: string): Promise<LoadedConfig> {
  const file = explicit ? path.resolve(cwd, explicit) : findConfigFile(cwd);
  if (!file) return { config: {}, file: undefined, dir: cwd, inputs: [] };
  const shown = path.relative(cwd, file) || file;
  if (!existsSync(file)) {
    throw new EvalrunError("CONFIG", `The config file ${shown} does not exist.`, "Check the --config path.");
  }
  const compiled = await compileEvalFile(file);
  if (!compiled.ok) {
    const detail = compiled.errors.map((m) => formatCompileMessage(m, cwd)).join("\n");
    throw new EvalrunError("CONFIG", `The config file ${shown} does not compile:\n${detail}`);
  }
  let exported: unknown;
  // process.exit() in the config (or a helper it imports) must not end the run silently: exit 0 would pass CI.
  const releaseExit = guardExit();
  try {
    const module = (await import(pathToFileURL(compiled.bundle).href)) as { default?: unknown };
    exported = await module.default;
    // CommonJS compiled from `export default` (tsc's `exports.default = ...`, marked __esModule) holds the config
    // under `default`, as bundlers read it.
    const wrapped = exported as { __esModule?: unknown; default?: unknown } | null;
    if (
      typeof wrapped === "object" &&
      wrapped !== null &&
      wrapped.__esModule === true &&
      "default" in wrapped
    )
      exported = await wrapped.default;
  } catch (error) {
    throw new EvalrunError(
      "CONFIG",
      error instanceof ExitCalled
        ? `The config file ${shown} called process.exit(${error.code === undefined ? "" : String(error.code)}) while loading; nothing ran.`
        : withoutSecrets(
            `The config file ${shown} threw while loading: ${error instanceof Error ? error.message : String(error)}`,
          ),
      "Fix the config file's top-level code.",
    );
  } finally {
    releaseExit();
  }
  if (typeof exported !== "object" || exported === null) {
    throw new EvalrunError(
      "CONFIG",
      `The config file ${shown} must export an object as default; it exports ${describeValue(exported)}.`,
      'Write: import { defineConfig } from "evalrun"; export default defineConfig({ paths: ["evals"] });',
    );
  }
  const { configSchema, configKeys } = await import("../define/config-schema.js");
  let parsed: ReturnType<typeof configSchema.safeParse>;
  try {
    parsed = configSchema.safeParse(exported);
  } catch (error) {
    // A getter of the exported object (or a Proxy) that throws.
    throw new EvalrunError(
      "CONFIG",
      `The config file ${shown}: reading its settings threw ${errorLine(error)}.`,
      "Export a plain object of settings.",
    );
  }
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue) => {
      if (issue.code === "unrecognized_keys") {
        // A key inside an object key (gate.maxdrop) is named with its path, and suggested from that object's keys.
        const prefix = issue.path.length > 0 ? `${issue.path.join(".")}.` : "";
        const siblings = issue.path[0] === "gate" ? GATE_CONFIG_KEYS : configKeys;
        return issue.keys.map((key) => {
          const sibling = closestName(key, siblings);
          // A gate setting written at the top level (minScore, failOnRegression) belongs under `gate`.
          const gateKey =
            prefix === "" && sibling === undefined ? closestName(key, GATE_CONFIG_KEYS) : undefined;
          const near = sibling !== undefined ? `${prefix}${sibling}` : gateKey && `gate.${gateKey}`;
          return `unknown key "${prefix}${key}"${near ? ` (did you mean "${near}"?)` : ""}`;
        });
      }
      const where = issue.path.length > 0 ? `"${issue.path.join(".")}"` : "the config";
      const message =
        issue.path.length === 1 ? (UNION_HINTS[String(issue.path[0])] ?? issue.message) : issue.message;
      return [`${where}: ${message}`];
    });
    throw new EvalrunError(
      "CONFIG",
      `The config file ${shown} is invalid: ${problems.join("; ")}.`,
      `Valid keys: ${configKeys.join(", ")}. See the README's Configuration section.`,
    );
  }
  return { config: parsed.data, file, dir: path.dirname(file), inputs: compiled.inputs };
}

/** What the keys whose schema is a union take: zod says only "Invalid input" for them. */
const UNION_HINTS: Record<string, string> = {
  workers: 'expected "auto" or a whole number of 0 or more',
  store: "expected a file path, or false to keep nothing",
};
