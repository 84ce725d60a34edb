import { EvalrunError } from "../define/errors.js";
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
  const given: Record<string, unknown> = {};
  for (const key of SHARED) if (options[key] !== undefined) given[key] = options[key];
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
