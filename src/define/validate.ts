import { describeValue, EvalrunError, errorLine, isEvalrunError, MAX_TIMER_MS } from "./errors.js";
import { parameterValues } from "./parameters.js";
import type { EvalDefinition } from "./types.js";
import { keyMeaning } from "./unknown-keys.js";

const label = (d: EvalDefinition) => `Eval "${d.name}"${d.file ? ` in ${d.file}` : ""}`;

function positiveInteger(d: EvalDefinition, key: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new EvalrunError(
      "BAD_EVALUATOR",
      `${label(d)}: \`${key}\` must be a positive integer; got ${describeValue(value)}.`,
      `Set \`${key}\` to a whole number such as 1, or remove it to use the default.`,
    );
  }
}

/**
 * Checks what can be checked before running: the shape of the evaluator object. `data` is checked when it is
 * produced (it may be a function or a promise), rows as they are read.
 */
export function validateDefinition(d: EvalDefinition): void {
  try {
    checkDefinition(d);
  } catch (error) {
    if (isEvalrunError(error)) throw error;
    // A getter of the evaluator (or a Proxy) that throws is the file's mistake, not evalrun's.
    throw new EvalrunError(
      "BAD_EVALUATOR",
      `Eval "${String(d.name)}": reading its options threw ${errorLine(error)}.`,
      "Give Eval() plain values (data, task, scores); a getter that throws, or a Proxy, cannot be read.",
    );
  }
}

function misspelt(evaluator: Record<string, unknown>, wanted: string): string {
  const key = keyMeaning(evaluator, wanted);
  return key === undefined ? "" : ` It has \`${key}\`: did you mean \`${wanted}\`?`;
}

function checkDefinition(d: EvalDefinition): void {
  if (typeof d.name !== "string" || d.name.trim() === "") {
    throw new EvalrunError(
      "BAD_EVALUATOR",
      `An Eval()${d.file ? ` in ${d.file}` : ""} has ${describeValue(d.name)} as its name.`,
      'Give each eval a non-empty string name: Eval("my-eval", { ... }).',
    );
  }
  const ev = d.evaluator as unknown;
  if (typeof ev !== "object" || ev === null) {
    throw new EvalrunError(
      "BAD_EVALUATOR",
      `${label(d)}: the second argument must be an object { data, task, scores }; got ${describeValue(ev)}.`,
    );
  }
  const e = d.evaluator as unknown as Record<string, unknown>;
  if (e.data === undefined || e.data === null) {
    throw new EvalrunError(
      "BAD_EVALUATOR",
      `${label(d)}: \`data\` is missing.${misspelt(e, "data")}`,
      "Give `data` an array of rows ({ input, expected? }), an iterable, an async iterable, or a function returning one.",
    );
  }
  if (typeof e.task !== "function") {
    throw new EvalrunError(
      "BAD_EVALUATOR",
      `${label(d)}: \`task\` must be a function (input, hooks) => output; got ${describeValue(e.task)}.${e.task === undefined ? misspelt(e, "task") : ""}`,
    );
  }
  if (!Array.isArray(e.scores) && e.scores === undefined && Array.isArray(e.classifiers)) {
    throw new EvalrunError(
      "BAD_EVALUATOR",
      `${label(d)}: it has Braintrust's \`classifiers\` and no \`scores\`; evalrun records scores only, and does not run classifiers.`,
      "Turn each classifier into a scorer: ({ output, expected }) => ({ name, score, metadata: { label } }).",
    );
  }
  if (!Array.isArray(e.scores)) {
    throw new EvalrunError(
      "BAD_EVALUATOR",
      `${label(d)}: \`scores\` must be an array of scorer functions; got ${describeValue(e.scores)}.${e.scores === undefined ? misspelt(e, "scores") : ""}`,
      "Write scores: [myScorer] where myScorer is ({ input, output, expected }) => number | Score | null.",
    );
  }
  e.scores.forEach((scorer, i) => {
    if (typeof scorer !== "function") {
      throw new EvalrunError(
        "BAD_EVALUATOR",
        `${label(d)}: \`scores[${i}]\` is ${describeValue(scorer)}, not a scorer function.`,
        "Each item of `scores` must be a function ({ input, output, expected, metadata }) => number | Score | null.",
      );
    }
  });
  if (e.errorScoreHandler !== undefined && typeof e.errorScoreHandler !== "function") {
    throw new EvalrunError(
      "BAD_EVALUATOR",
      `${label(d)}: \`errorScoreHandler\` must be a function ({ rootSpan, data, unhandledScores }) => scores; got ${describeValue(e.errorScoreHandler)}.`,
      'Give a function such as defaultErrorScoreHandler (import { defaultErrorScoreHandler } from "evalrun"), or remove it.',
    );
  }
  positiveInteger(d, "trialCount", e.trialCount);
  positiveInteger(d, "maxConcurrency", e.maxConcurrency);
  positiveInteger(d, "timeout", e.timeout);
  if (typeof e.timeout === "number" && e.timeout > MAX_TIMER_MS) {
    throw new EvalrunError(
      "BAD_EVALUATOR",
      `${label(d)}: \`timeout\` is ${e.timeout} ms, longer than Node's longest timer (${MAX_TIMER_MS} ms, ~24 days), which would fire at once.`,
      "Give a shorter timeout, or none for no limit.",
    );
  }
  for (const key of ["experimentName", "description", "baseExperimentName", "baseExperimentId"] as const) {
    if (e[key] !== undefined && typeof e[key] !== "string") {
      throw new EvalrunError(
        "BAD_EVALUATOR",
        `${label(d)}: \`${key}\` must be a string; got ${describeValue(e[key])}.`,
      );
    }
  }
  if (e.tags !== undefined && !(Array.isArray(e.tags) && e.tags.every((t) => typeof t === "string"))) {
    throw new EvalrunError("BAD_EVALUATOR", `${label(d)}: \`tags\` must be an array of strings.`);
  }
  validateThresholds(d, e.thresholds);
  parameterValues(d.evaluator, label(d));
}

function validateThresholds(d: EvalDefinition, thresholds: unknown): void {
  if (thresholds === undefined) return;
  if (typeof thresholds !== "object" || thresholds === null || Array.isArray(thresholds)) {
    throw new EvalrunError(
      "BAD_EVALUATOR",
      `${label(d)}: \`thresholds\` must be an object of score name → minimum mean; got ${describeValue(thresholds)}.`,
      "e.g. thresholds: { Factuality: 0.8 }",
    );
  }
  for (const [name, value] of Object.entries(thresholds)) {
    if (typeof value !== "number" || !(value >= 0 && value <= 1)) {
      throw new EvalrunError(
        "BAD_EVALUATOR",
        `${label(d)}: \`thresholds.${name}\` is ${describeValue(value)}; a minimum is a number between 0 and 1.`,
        `e.g. thresholds: { ${JSON.stringify(name)}: 0.8 }`,
      );
    }
  }
}
