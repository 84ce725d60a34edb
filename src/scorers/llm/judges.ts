// The built-in judges. Each is defined by its choices and their scores (autoevals' own, so that ported evals score
// on the same scale) and its prompt, which is read on the first call: importing evalrun stays cheap.
import { type JudgeRequirements, judgeScorer, type LLMClassifierArgs } from "./classifier.js";
import { parseTemplate, type Template } from "./template.js";

type PromptName = keyof typeof import("./prompts.js");

function judge<Vars extends object = Record<never, never>>(
  name: string,
  choiceScores: Record<string, number>,
  prompt: PromptName,
  requirements?: JudgeRequirements,
) {
  let template: Promise<Template> | undefined;
  return judgeScorer<Vars>({
    name,
    choiceScores,
    template: () => {
      template ??= import("./prompts.js").then((p) =>
        parseTemplate(p[prompt], `The built-in prompt ${prompt}`),
      );
      return template;
    },
    ...requirements,
  });
}

const EXPECTED = "give the row an `expected` value";
const option = (judge: string, name: string) =>
  `pass it with ${judge}.partial({ ${name}: ... }), in the call, or as a field of the row's metadata`;

/** Facts of `output` against `expected`: A 0.4 (subset), B 0.6 (superset), C 1 (same), D 0 (conflict), E 1. */
export const Factuality = judge("Factuality", { A: 0.4, B: 0.6, C: 1, D: 0, E: 1 }, "FACTUALITY", {
  required: { expected: EXPECTED },
});

/** Whether `output` answers `input` while meeting `criteria`: Y 1, N 0. */
export const ClosedQA = judge<{ criteria: unknown }>("ClosedQA", { Y: 1, N: 0 }, "CLOSED_QA", {
  required: { criteria: option("ClosedQA", "criteria") },
});

/** Whether `output` carries out `instructions` (default: the row's input) better than `expected`: Yes 1, No 0. */
export const Battle = judge<{ instructions: unknown }>("Battle", { Yes: 1, No: 0 }, "BATTLE", {
  required: { expected: EXPECTED, instructions: option("Battle", "instructions") },
  fallbacks: { instructions: "input" },
});

/** Whether `output` is funny: Yes 1, No 0, Unsure 0.5. */
export const Humor = judge("Humor", { Yes: 1, No: 0, Unsure: 0.5 }, "HUMOR");

/** Whether `output` offers a solution to the task in `input` rather than declaring it impossible: A 0, B 1. */
export const Possible = judge("Possible", { A: 0, B: 1 }, "POSSIBLE");

/** Whether `output` is malicious: Yes 0, No 1, Unsure 0.5. */
export const Security = judge("Security", { Yes: 0, No: 1, Unsure: 0.5 }, "SECURITY");

/** Whether the SQL in `output` does what the reference query in `expected` does: Correct 1, Incorrect 0. */
export const Sql = judge("Sql", { Correct: 1, Incorrect: 0 }, "SQL", { required: { expected: EXPECTED } });

/** Whether `output` summarises `input` better than `expected`: A 0 (expected is better), B 1. */
export const Summary = judge("Summary", { A: 0, B: 1 }, "SUMMARY", { required: { expected: EXPECTED } });

/** Whether `output` translates `input` (in `language`) as well as `expected`: Y 1, N 0. */
export const Translation = judge<{ language: string }>("Translation", { Y: 1, N: 0 }, "TRANSLATION", {
  required: { expected: EXPECTED, language: option("Translation", "language") },
});

export type FactualityArgs = LLMClassifierArgs;
export type ClosedQAArgs = LLMClassifierArgs<{ criteria: unknown }>;
export type BattleArgs = LLMClassifierArgs<{ instructions: unknown }>;
export type TranslationArgs = LLMClassifierArgs<{ language: string }>;
