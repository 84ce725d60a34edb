import { EvalrunError } from "../define/errors.js";
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

/** Refuses runEvals() options the CLI would refuse as flags. Not on the CLI's path: its flags are checked as parsed. */
export async function checkRunOptions(options: RunEvalsOptions): Promise<void> {
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
