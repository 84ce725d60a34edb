import { closestName } from "../util/suggest.js";
import type { BraintrustServiceKeys, EvalDefinition, Evaluator } from "./types.js";

// Every key evalrun reads; the type makes this list complete.
const EVALRUN_KEYS: Record<Exclude<keyof Evaluator, keyof BraintrustServiceKeys>, true> = {
  data: true,
  task: true,
  scores: true,
  experimentName: true,
  description: true,
  metadata: true,
  tags: true,
  trialCount: true,
  maxConcurrency: true,
  timeout: true,
  baseExperimentName: true,
  baseExperimentId: true,
  thresholds: true,
  parameters: true,
  errorScoreHandler: true,
};

/**
 * Braintrust's evaluator keys that only mean something to its service (projects, sharing, git settings, span
 * flushing): a file written for Braintrust keeps them and runs unchanged, so they pass without a word.
 */
const BRAINTRUST_SERVICE_KEYS = new Set([
  "projectId",
  "isPublic",
  "update",
  "state",
  "gitMetadataSettings",
  "repoInfo",
  "summarizeScores",
  "flushBeforeScoring",
]);

/** Braintrust keys that change results there and are not run here: the user's numbers would differ silently. */
const BRAINTRUST_NOT_RUN: Record<string, string> = {
  classifiers: "its classifiers are not run (evalrun records scores only)",
  signal: "its signal is not watched (stop a run with Ctrl-C, or runEvals()'s signal)",
};

/** Names other runners and habits give the required keys, too far from them for the edit distance to find. */
const OTHER_NAMES: Record<string, string> = {
  dataset: "data",
  rows: "data",
  examples: "data",
  cases: "data",
  testCases: "data",
  scorers: "scores",
  scoring: "scores",
  evaluators: "scores",
};

/** Common start long enough to say what was meant (`trials` for `trialCount`, `experiment` for `experimentName`). */
function sharedStart(key: string, candidates: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestLength = 0;
  for (const candidate of candidates) {
    const other = candidate.toLowerCase();
    let n = 0;
    while (n < lower.length && n < other.length && lower[n] === other[n]) n++;
    const contained = other.includes(lower) || lower.includes(other);
    const length = contained ? Math.min(lower.length, other.length) : n;
    if (length >= 5 && length > bestLength) {
      best = candidate;
      bestLength = length;
    }
  }
  return best;
}

function likelyMeant(key: string, known: readonly string[]): string | undefined {
  return OTHER_NAMES[key] ?? closestName(key, known) ?? sharedStart(key, known);
}

/**
 * The key of `evaluator` evalrun does not read that likely stands for `wanted` (`scorers`, `dataset`): a refusal
 * for a missing required key names it, since the unknown-key notices are never shown for a refused eval.
 */
export function keyMeaning(evaluator: Record<string, unknown>, wanted: string): string | undefined {
  const known = Object.keys(EVALRUN_KEYS);
  return Object.keys(evaluator).find(
    (key) =>
      !Object.hasOwn(EVALRUN_KEYS, key) &&
      !BRAINTRUST_SERVICE_KEYS.has(key) &&
      evaluator[key] !== undefined &&
      likelyMeant(key, known) === wanted,
  );
}

/**
 * A line for each evaluator key evalrun does not read: a typo (`trials`, `maxConcurency`) would otherwise run the
 * eval with the default, silently. Braintrust's keys are let through, or named when ignoring them changes results.
 */
export function unknownKeyNotices(definition: EvalDefinition): string[] {
  const evaluator = definition.evaluator as unknown as Record<string, unknown>;
  const notices: string[] = [];
  if (definition.reporter !== undefined)
    notices.push(
      `Eval "${definition.name}": its reporter "${definition.reporter}" (Eval()'s third argument, Braintrust's) is not run, so it passes or fails nothing; evalrun reports through --reporter, and fails a run on scores with \`thresholds\` or --min-score.`,
    );
  const known = Object.keys(EVALRUN_KEYS);
  for (const key of Object.keys(evaluator)) {
    if (Object.hasOwn(EVALRUN_KEYS, key) || BRAINTRUST_SERVICE_KEYS.has(key)) continue;
    if (evaluator[key] === undefined) continue;
    const where = `Eval "${definition.name}"`;
    const notRun = BRAINTRUST_NOT_RUN[key];
    if (notRun !== undefined) {
      notices.push(`${where}: \`${key}\` is Braintrust's; ${notRun}.`);
      continue;
    }
    const near = likelyMeant(key, known);
    notices.push(
      `${where}: \`${key}\` is not an option of Eval(), so it is ignored.${near ? ` Did you mean \`${near}\`?` : ` Its options: ${known.join(", ")}.`}`,
    );
  }
  return notices;
}
