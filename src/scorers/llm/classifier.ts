// The judges' definitions and checks. What a call needs (the client, the tool call, the answer's parsing) is in
// classify.ts, loaded on the first call, so that importing evalrun stays light.
import type { Score } from "../../define/types.js";
import { checkInteger, configError } from "../../llm/checks.js";
import type { ProviderOptions } from "../../llm/config.js";
import { type PartialScorer, withPartial } from "./partial.js";
import { parseTemplate, type Template } from "./template.js";

/** Options every LLM judge takes, in LLMClassifier(), `.partial()` or the call itself (the call wins). */
export interface LLMJudgeOptions extends ProviderOptions {
  /** Chat model; by default init()'s, else EVALRUN_LLM_MODEL, else gpt-4o. */
  model?: string | undefined;
  /** Default 0; not sent to OpenAI's reasoning models (o-series, gpt-5) unless set. */
  temperature?: number | undefined;
  /** Default 1024; sent to reasoning models as `max_completion_tokens`, only when set. */
  maxTokens?: number | undefined;
  /** Reasoning models' `reasoning_effort` ("minimal", "low", "medium", "high"); sent only when set. */
  reasoningEffort?: string | undefined;
  /** Ask for step-by-step reasoning before the choice (default true); it is kept as the score's rationale. */
  useCoT?: boolean | undefined;
}

/** What a judge is called with: a scorer's arguments (the engine passes these) plus options. */
export interface LLMJudgeArgs extends LLMJudgeOptions {
  input?: unknown;
  output?: unknown;
  expected?: unknown;
  /** The row's metadata; its fields are template variables too (`{{topic}}` as well as `{{metadata.topic}}`). */
  metadata?: unknown;
  /** The row's signal: aborting it (a row timeout) stops the call and its retry waits. */
  signal?: AbortSignal | undefined;
}

/** A judge's arguments; `Vars` types the extra template variables it takes (e.g. `{ criteria: string }`). */
export type LLMClassifierArgs<Vars extends object = Record<never, never>> = LLMJudgeArgs & Partial<Vars>;

export interface LLMClassifierOptions extends LLMJudgeOptions {
  /** The score's name (and the scorer function's). */
  name: string;
  /** Mustache-like: `{{input}}`, `{{output}}`, `{{expected}}`, `{{metadata.x}}`, metadata fields and extra args. */
  promptTemplate: string;
  /** Each choice the model may pick and the score it gives, in [0, 1]. */
  choiceScores: Record<string, number>;
}

/** Judge-specific checks the built-in judges add (not public: a custom template says what it needs itself). */
export interface JudgeRequirements {
  /** Variables that must be present, with how to provide each. */
  required?: Record<string, string>;
  /** Variables that fall back to another when absent (Battle's `instructions` to the row's `input`). */
  fallbacks?: Record<string, string>;
}

/** A checked judge definition, as classify() takes it. */
export interface JudgeSpec extends LLMJudgeOptions, JudgeRequirements {
  name: string;
  choiceScores: Record<string, number>;
  template: () => Template | Promise<Template>;
}

export function checkJudgeOptions(name: string, options: LLMJudgeOptions): void {
  const t = options.temperature;
  if (t !== undefined && !(typeof t === "number" && Number.isFinite(t) && t >= 0)) {
    throw configError(`${name}: temperature must be a number of at least 0, not ${String(t)}.`);
  }
  checkInteger(`${name}: maxTokens`, options.maxTokens, 1);
  const effort = options.reasoningEffort;
  if (effort !== undefined && (typeof effort !== "string" || effort === "")) {
    throw configError(`${name}: reasoningEffort must be a string such as "low", not ${String(effort)}.`);
  }
}

function checkChoiceScores(name: string, choiceScores: unknown): void {
  if (typeof choiceScores !== "object" || choiceScores === null || Array.isArray(choiceScores)) {
    throw configError(`LLMClassifier "${name}": choiceScores must be an object such as { Y: 1, N: 0 }.`);
  }
  const choices = Object.keys(choiceScores);
  if (choices.length === 0) throw configError(`LLMClassifier "${name}": choiceScores has no choices.`);
  for (const [choice, score] of Object.entries(choiceScores)) {
    if (typeof score !== "number" || !Number.isFinite(score) || score < 0 || score > 1) {
      throw configError(
        `LLMClassifier "${name}": the score of choice ${JSON.stringify(choice)} must be a number in [0, 1], not ${String(score)}.`,
      );
    }
  }
}

/** The scorer of a checked definition; the call itself is loaded on first use. */
export function judgeScorer<Vars extends object>(spec: JudgeSpec): PartialScorer<LLMClassifierArgs<Vars>> {
  return withPartial<LLMClassifierArgs<Vars>>(spec.name, async (args): Promise<Score> => {
    checkJudgeOptions(spec.name, (args ?? {}) as LLMJudgeOptions);
    const { classify } = await import("./classify.js");
    return classify(spec, (args ?? {}) as LLMJudgeArgs);
  });
}

/**
 * An LLM judge from a prompt template: the model is made to pick one of `choiceScores`' keys through a forced
 * tool call, and the choice's score is the score; the choice and the model's reasoning go in its metadata. The
 * definition is checked here, so that a mistake fails when the eval file loads.
 */
export function LLMClassifier<Vars extends object = Record<never, never>>(
  options: LLMClassifierOptions,
): PartialScorer<LLMClassifierArgs<Vars>> {
  const name = options?.name;
  if (typeof name !== "string" || name.trim() === "") {
    throw configError("LLMClassifier needs a `name` (the score's name).");
  }
  if (typeof options.promptTemplate !== "string" || options.promptTemplate.trim() === "") {
    throw configError(`LLMClassifier "${name}" needs a \`promptTemplate\`.`);
  }
  const template = parseTemplate(options.promptTemplate, `The prompt template of "${name}"`);
  checkChoiceScores(name, options.choiceScores);
  checkJudgeOptions(name, options);
  return judgeScorer<Vars>({
    ...options,
    name,
    choiceScores: { ...options.choiceScores },
    template: () => template,
  });
}

/** autoevals' JavaScript name for LLMClassifier, with the same options: ported files run unchanged. */
export const LLMClassifierFromTemplate = LLMClassifier;

/** A judge as autoevals' YAML specs describe one (snake_case keys). */
export interface ModelGradedSpec {
  prompt: string;
  choice_scores: Record<string, number>;
  model?: string | undefined;
  use_cot?: boolean | undefined;
  temperature?: number | undefined;
  max_tokens?: number | undefined;
}

/** autoevals' LLMClassifierFromSpec: a judge named `name` from a spec object. */
export function LLMClassifierFromSpec<Vars extends object = Record<never, never>>(
  name: string,
  spec: ModelGradedSpec,
): PartialScorer<LLMClassifierArgs<Vars>> {
  if (typeof spec !== "object" || spec === null) {
    throw configError(
      `LLMClassifierFromSpec "${name}": the spec must be an object with prompt and choice_scores.`,
    );
  }
  // In the spec's own (snake_case) words: "choiceScores" below would name a key the user never wrote.
  const scores = spec.choice_scores as unknown;
  if (typeof scores !== "object" || scores === null || Array.isArray(scores)) {
    const near = Object.keys(spec).find((k) => k !== "choice_scores" && /^choice_?scores?$/i.test(k));
    throw configError(
      `LLMClassifierFromSpec "${name}": the spec's choice_scores must be an object such as { Y: 1, N: 0 }${near ? `; it has "${near}" instead` : ""}.`,
    );
  }
  if (spec.use_cot !== undefined && typeof spec.use_cot !== "boolean") {
    throw configError(
      `LLMClassifierFromSpec "${name}": the spec's use_cot must be true or false, not ${JSON.stringify(spec.use_cot)}.`,
    );
  }
  return LLMClassifier<Vars>({
    name,
    promptTemplate: spec.prompt,
    choiceScores: spec.choice_scores,
    model: spec.model,
    useCoT: spec.use_cot,
    temperature: spec.temperature,
    maxTokens: spec.max_tokens,
  });
}
