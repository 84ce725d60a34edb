// One judge call, loaded on a judge's first call (see classifier.ts).
import { EvalrunError } from "../../define/errors.js";
import type { Score } from "../../define/types.js";
import { recordUsage } from "../../define/usage.js";
import { clientFor } from "../../llm/client.js";
import { chatModel, isReasoningModel } from "../../llm/config.js";
import { redact, redactError } from "../../llm/errors.js";
import type { ChatCompletion, ChatCompletionParams } from "../../llm/types.js";
import { answerInstruction, parseAnswer, selectTool, TOOL_NAME } from "./choice.js";
import type { JudgeSpec, LLMJudgeArgs } from "./classifier.js";

/** Arguments that are options or the row itself; any other is a template variable (`criteria`, `language`...). */
const OPTION_KEYS = new Set([
  "input",
  "output",
  "expected",
  "metadata",
  "signal",
  "model",
  "temperature",
  "maxTokens",
  "reasoningEffort",
  "useCoT",
  "client",
  "baseUrl",
  "apiKey",
  "openAiBaseUrl",
  "openAiApiKey",
  "openAiDefaultHeaders",
  "openAiOrganizationId",
]);

// An empty string is a value: a reference answer may be "" (the model should say nothing).
const isMissing = (value: unknown) => value === undefined || value === null;

/**
 * What the template sees: the choices (`{{__choices}}`, as autoevals' templates name them), the row's metadata
 * fields, then extra arguments, then the row itself.
 */
function viewOf(spec: JudgeSpec, a: LLMJudgeArgs & Record<string, unknown>): Record<string, unknown> {
  const view: Record<string, unknown> = { __choices: Object.keys(spec.choiceScores) };
  if (typeof a.metadata === "object" && a.metadata !== null) Object.assign(view, a.metadata);
  for (const key in a) if (!OPTION_KEYS.has(key)) view[key] = a[key];
  Object.assign(view, { input: a.input, output: a.output, expected: a.expected, metadata: a.metadata });
  for (const [variable, source] of Object.entries(spec.fallbacks ?? {})) {
    if (isMissing(view[variable])) view[variable] = view[source];
  }
  for (const [variable, how] of Object.entries(spec.required ?? {})) {
    if (isMissing(view[variable])) {
      throw new EvalrunError("LLM_CONFIG", `${spec.name} needs \`${variable}\`, and it is missing: ${how}.`);
    }
  }
  return view;
}

export async function classify(spec: JudgeSpec, args: LLMJudgeArgs): Promise<Score> {
  const a = args as LLMJudgeArgs & Record<string, unknown>;
  const view = viewOf(spec, a);
  const useCoT = a.useCoT ?? spec.useCoT ?? true;
  const choices = Object.keys(spec.choiceScores);
  const { client, secrets } = clientFor({
    client: a.client ?? spec.client,
    baseUrl: a.baseUrl ?? spec.baseUrl,
    apiKey: a.apiKey ?? spec.apiKey,
    openAiBaseUrl: a.openAiBaseUrl ?? spec.openAiBaseUrl,
    openAiApiKey: a.openAiApiKey ?? spec.openAiApiKey,
    openAiDefaultHeaders: a.openAiDefaultHeaders ?? spec.openAiDefaultHeaders,
    openAiOrganizationId: a.openAiOrganizationId ?? spec.openAiOrganizationId,
  });
  const template = await spec.template();
  const model = chatModel(a.model ?? spec.model);
  const params: ChatCompletionParams = {
    model,
    messages: [
      { role: "user", content: `${template.render(view)}\n\n${answerInstruction(choices, useCoT)}` },
    ],
    tools: [selectTool(choices, useCoT)],
    tool_choice: { type: "function", function: { name: TOOL_NAME } },
  };
  const temperature = a.temperature ?? spec.temperature;
  const maxTokens = a.maxTokens ?? spec.maxTokens;
  const effort = a.reasoningEffort ?? spec.reasoningEffort;
  if (isReasoningModel(model)) {
    // Their reasoning counts against the cap, so none is set unless asked; a temperature only if asked.
    if (temperature !== undefined) params.temperature = temperature;
    if (maxTokens !== undefined) params.max_completion_tokens = maxTokens;
  } else {
    params.temperature = temperature ?? 0;
    params.max_tokens = maxTokens ?? 1024;
  }
  if (effort !== undefined) params.reasoning_effort = effort;
  const signal = a.signal;
  let answer: ReturnType<typeof parseAnswer>;
  try {
    const response = (await client.chat.completions.create(
      params,
      signal === undefined ? undefined : { signal },
    )) as ChatCompletion;
    recordUsage(signal, response?.usage);
    answer = parseAnswer(response, choices);
  } catch (error) {
    throw redactError(error, secrets);
  }
  // The tool call's arguments are JSON inside JSON: a key echoed escaped there (\u002B) is whole only now.
  const { choice } = answer;
  const rationale = answer.rationale === undefined ? undefined : redact(answer.rationale, secrets);
  return {
    name: spec.name,
    score: spec.choiceScores[choice] as number,
    metadata: rationale === undefined ? { choice } : { choice, rationale },
  };
}
