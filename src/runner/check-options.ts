import { GATE_CONFIG_KEYS } from "../define/config.js";
import { describeValue, EvalrunError } from "../define/errors.js";
import { closestName } from "../util/suggest.js";
import type { RunEvalsOptions } from "./options.js";

// The options runEvals() shares with the config file, checked by the config's own schema: a script gets the
// CLI's checks (trials: 0 ran nothing and passed; maxConcurrency: -3 threw p-limit's TypeError).
const SHARED = [
  "paths",
  "maxConcurrency",
  "workers",
  "trials",
  "timeout",
  "filter",
  "maxErrorRate",
  "store",
  "baselineDir",
] as const;

// Every option runEvals() takes; the type makes this list complete.
const KNOWN: Record<keyof RunEvalsOptions, true> = {
  paths: true,
  cwd: true,
  config: true,
  filter: true,
  trials: true,
  timeout: true,
  maxConcurrency: true,
  workers: true,
  passWithNoEvals: true,
  maxErrorRate: true,
  envFile: true,
  reporters: true,
  store: true,
  resume: true,
  retryErrors: true,
  baseline: true,
  gate: true,
  selection: true,
  exportDir: true,
  baselineDir: true,
  signal: true,
  graceMs: true,
};

/** Refuses runEvals() options the CLI would refuse as flags. Not on the CLI's path: its flags are checked as parsed. */
export async function checkRunOptions(options: RunEvalsOptions): Promise<void> {
  if (typeof options !== "object" || options === null || Array.isArray(options))
    throw usage(
      `runEvals() takes an object of options (or nothing); it was given ${describeValue(options)}.`,
      'e.g. runEvals({ paths: ["evals"] }), or runEvals() for every eval under the current directory.',
    );
  // A misspelt option (maxConcurency) would be ignored, as an unknown flag or config key never is.
  const unknown = Object.keys(options).filter((key) => !Object.hasOwn(KNOWN, key));
  if (unknown.length > 0) {
    const near = closestName(unknown[0] as string, Object.keys(KNOWN));
    throw new EvalrunError(
      "USAGE",
      `runEvals() was given unknown option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")}.${near ? ` Did you mean "${near}"?` : ""}`,
      `Its options: ${Object.keys(KNOWN).join(", ")} (README: Programmatic API).`,
    );
  }
  checkApiOnly(options);
  checkCombinations(options);
  checkGate(options.gate);
  checkSelectionOption(options.selection);
  const given: Record<string, unknown> = {};
  for (const key of SHARED) if (options[key] !== undefined) given[key] = options[key];
  // The config's gate keys are checked by the config's own schema (minScore strings, confidence in (0, 1)...).
  const gate = options.gate as Record<string, unknown> | undefined;
  if (gate) {
    const asConfig = Object.fromEntries(
      Object.entries(gate).filter(([k]) => k !== "minScores" && k !== "rowThresholds"),
    );
    if (Object.keys(asConfig).length > 0) given.gate = asConfig;
  }
  if (Object.keys(given).length === 0) return;
  const { configSchema } = await import("../define/config-schema.js");
  const parsed = configSchema.safeParse(given);
  if (parsed.success) return;
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.join(".") || "options"}: ${issue.message}`,
  );
  throw new EvalrunError(
    "USAGE",
    `runEvals() was given invalid options: ${problems.join("; ")}.`,
    "They take the values of the config keys of the same names (README: Configuration).",
  );
}

const usage = (message: string, hint: string) => new EvalrunError("USAGE", message, hint);

/** What the CLI refuses as a pair of flags, refused as a pair of options. */
function checkCombinations(options: RunEvalsOptions): void {
  if ((options.resume || options.retryErrors) && options.store === false) {
    throw usage(
      `runEvals(): ${options.resume ? "resume" : "retryErrors"} cannot be used with store: false; it works from the store's earlier experiments.`,
      "Drop store: false (or give store: PATH, the store the earlier run used).",
    );
  }
  if (options.resume && options.retryErrors) {
    throw usage(
      "runEvals(): resume and retryErrors cannot be used together.",
      "resume finishes an interrupted experiment; retryErrors re-runs the errored rows of a finished one. Pick one.",
    );
  }
}

// The config's names (strings for rules) and the names the CLI's gate is built with (parsed rules).
const GATE_KEYS = [...GATE_CONFIG_KEYS, "minScores", "rowThresholds"];

function checkGate(gate: unknown): void {
  if (gate === undefined) return;
  if (typeof gate !== "object" || gate === null || Array.isArray(gate)) {
    throw usage(
      "runEvals(): gate must be an object, as the config's gate.",
      'e.g. gate: { failOnRegression: true, minScore: ["Factuality=0.8"] }',
    );
  }
  const unknown = Object.keys(gate).filter((key) => !GATE_KEYS.includes(key));
  if (unknown.length > 0) {
    const near = closestName(unknown[0] as string, GATE_KEYS);
    throw usage(
      `runEvals() was given unknown gate option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"gate.${k}"`).join(", ")}.${near ? ` Did you mean "gate.${near}"?` : ""}`,
      'gate takes the config\'s gate keys: failOnRegression, maxDrop, confidence, requireBaseline, minScore and rowThreshold (strings such as "Factuality=0.8").',
    );
  }
  // The parsed-rule keys take rule objects (as the CLI builds them); strings belong under the config's names.
  for (const key of ["minScores", "rowThresholds"] as const) {
    const rules = (gate as Record<string, unknown>)[key];
    if (rules === undefined) continue;
    const parsed = (rule: unknown) =>
      typeof rule === "object" && rule !== null && typeof (rule as { value?: unknown }).value === "number";
    if (!Array.isArray(rules) || !rules.every(parsed)) {
      const config = key === "minScores" ? "minScore" : "rowThreshold";
      throw usage(
        `runEvals(): gate.${key} takes parsed rules; got ${JSON.stringify(rules)}.`,
        `Give rule strings under the config's name: gate: { ${config}: ["Factuality=0.8"] }.`,
      );
    }
  }
}

const SELECTION_KEYS = ["first", "sample", "seed", "shard"];

function wholeAtLeast(value: unknown, min: number): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= min;
}

function checkSelectionOption(selection: unknown): void {
  if (selection === undefined) return;
  const hint =
    "selection takes { first: N } or { sample: N, seed: S }, and shard: { index: I, total: N } (1 <= I <= N).";
  if (typeof selection !== "object" || selection === null || Array.isArray(selection)) {
    throw usage("runEvals(): selection must be an object.", hint);
  }
  const s = selection as Record<string, unknown>;
  const unknown = Object.keys(s).filter((key) => !SELECTION_KEYS.includes(key));
  if (unknown.length > 0) {
    const near = closestName(unknown[0] as string, SELECTION_KEYS);
    throw usage(
      `runEvals() was given unknown selection option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"selection.${k}"`).join(", ")}.${near ? ` Did you mean "selection.${near}"?` : ""}`,
      hint,
    );
  }
  for (const key of ["first", "sample"] as const) {
    if (s[key] !== undefined && !wholeAtLeast(s[key], 1))
      throw usage(
        `runEvals(): selection.${key} must be a whole number of 1 or more; got ${String(s[key])}.`,
        hint,
      );
  }
  if (s.first !== undefined && s.sample !== undefined)
    throw usage("runEvals(): selection.first and selection.sample cannot be used together.", hint);
  if (s.seed !== undefined && !wholeAtLeast(s.seed, Number.MIN_SAFE_INTEGER))
    throw usage(`runEvals(): selection.seed must be a whole number; got ${String(s.seed)}.`, hint);
  if (s.shard !== undefined) {
    const shard = s.shard as { index?: unknown; total?: unknown } | null;
    if (
      typeof shard !== "object" ||
      shard === null ||
      !wholeAtLeast(shard.total, 1) ||
      !wholeAtLeast(shard.index, 1) ||
      (shard.index as number) > (shard.total as number)
    ) {
      throw usage(
        `runEvals(): selection.shard must be { index, total } with 1 <= index <= total; got ${JSON.stringify(s.shard)}.`,
        hint,
      );
    }
  }
}

/** The options only the API has (no flag checks them). */
function checkApiOnly(options: RunEvalsOptions): void {
  const { reporters, graceMs, signal } = options;
  if (
    signal !== undefined &&
    !(typeof signal === "object" && signal !== null && typeof signal.addEventListener === "function")
  ) {
    throw usage(
      `runEvals(): signal must be an AbortSignal; got ${describeValue(signal)}.`,
      "e.g. const stop = new AbortController(); runEvals({ signal: stop.signal }); stop.abort() ends the run.",
    );
  }
  if (
    reporters !== undefined &&
    (!Array.isArray(reporters) || !reporters.every((r) => typeof r === "object" && r !== null))
  ) {
    throw usage(
      "runEvals(): reporters must be an array of reporter objects.",
      "e.g. reporters: [{ onRow(ev, row) { ... } }] (hooks: onRunStart, onEvalStart, onEvalSize, onRow, onEvalEnd, onRunEnd).",
    );
  }
  if (graceMs !== undefined && !(typeof graceMs === "number" && graceMs >= 0 && Number.isFinite(graceMs))) {
    throw usage(
      `runEvals(): graceMs must be a number of milliseconds, 0 or more; got ${String(graceMs)}.`,
      "It is how long rows in flight may finish after the signal aborts (default 2000).",
    );
  }
  // A truthy string or number (from an env var or a JSON job spec) was not `true`: the run was a full one, every
  // row and LLM call again, where a retry was asked for.
  for (const key of ["passWithNoEvals", "resume", "retryErrors"] as const) {
    const value = options[key];
    if (value !== undefined && typeof value !== "boolean")
      throw usage(
        `runEvals(): ${key} must be true or false; got ${describeValue(value)}.`,
        `e.g. ${key}: true`,
      );
  }
  for (const key of ["cwd", "config", "exportDir", "baseline", "envFile"] as const) {
    const value = options[key];
    // config: false and envFile: false turn them off.
    const switchable = key === "envFile" || key === "config";
    if (
      value !== undefined &&
      !(switchable && value === false) &&
      (typeof value !== "string" || value === "")
    )
      throw usage(
        `runEvals(): ${key} must be a non-empty string${switchable ? " (or false)" : ""}; got ${describeValue(value)}.`,
        "Give a path (relative to cwd) or, for baseline, an experiment's name or id.",
      );
  }
  const hooks = ["onRunStart", "onEvalStart", "onEvalSize", "onRow", "onEvalEnd", "onRunEnd"];
  for (const [i, reporter] of (reporters ?? []).entries()) {
    const bad = hooks.find((hook) => {
      const value = (reporter as Record<string, unknown>)[hook];
      return value !== undefined && typeof value !== "function";
    });
    // Found before anything runs: called, it failed only once every row had run and been stored.
    if (bad !== undefined)
      throw usage(
        `runEvals(): reporters[${i}].${bad} must be a function; got ${describeValue((reporter as Record<string, unknown>)[bad])}.`,
        "e.g. reporters: [{ onRow(ev, row) { ... } }]",
      );
  }
}
