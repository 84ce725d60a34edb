import { EvalrunError } from "../../define/errors.js";
import type { ChatCompletion, ToolDefinition } from "../../llm/types.js";

export const TOOL_NAME = "select_choice";

/**
 * The function the judge is forced to call. With chain of thought, `reasoning` comes first in the schema, so a
 * model that fills arguments in order reasons before it commits to a choice.
 */
export function selectTool(choices: string[], useCoT: boolean): ToolDefinition {
  const choice = {
    type: "string",
    enum: choices,
    description: "Exactly one of the allowed choices.",
  };
  const properties: Record<string, unknown> = useCoT
    ? {
        reasoning: {
          type: "string",
          description: "Step-by-step reasoning that leads to the choice, written before choosing.",
        },
        choice,
      }
    : { choice };
  return {
    type: "function",
    function: {
      name: TOOL_NAME,
      description: "Record your answer: the choice you selected.",
      parameters: {
        type: "object",
        properties,
        required: useCoT ? ["reasoning", "choice"] : ["choice"],
        additionalProperties: false,
      },
    },
  };
}

/** The instruction after the rendered prompt. */
export function answerInstruction(choices: string[], useCoT: boolean): string {
  const list = choices.map((c) => JSON.stringify(c)).join(", ");
  return useCoT
    ? `Answer by calling the \`${TOOL_NAME}\` function. First write your reasoning step by step in \`reasoning\`, ` +
        `without stating a conclusion up front; then set \`choice\` to exactly one of: ${list}.`
    : `Answer by calling the \`${TOOL_NAME}\` function with \`choice\` set to exactly one of: ${list}.`;
}

/** A judge's answer that could not be turned into a score; keeps what the model said. */
export class JudgeAnswerError extends EvalrunError {
  constructor(
    message: string,
    readonly rationale: string | undefined,
    readonly choice: string | undefined,
  ) {
    super(
      "LLM_RESPONSE",
      rationale ? `${message} The model's rationale: ${clip(rationale)}` : message,
      "A judge must answer through the forced tool call; a model or server without tool calling cannot run it.",
    );
  }
}

function clip(text: string, max = 2000): string {
  const flat = text.trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

function textOf(value: unknown): string | undefined {
  if (typeof value === "string") return value.trim() === "" ? undefined : value;
  if (Array.isArray(value)) {
    const parts = value
      .map((v) => (typeof v === "string" ? v : typeof v?.text === "string" ? v.text : ""))
      .filter(Boolean);
    return parts.length > 0 ? parts.join("\n") : undefined;
  }
  return undefined;
}

/**
 * The choice among `choices` a model meant: exact, else after trimming quotes, brackets and a trailing period and
 * ignoring case ("(c)" or "c." for "C"), when that matches exactly one choice.
 */
export function matchChoice(raw: string, choices: string[]): string | undefined {
  if (choices.includes(raw)) return raw;
  const clean = (s: string) =>
    s
      .trim()
      .replace(/^["'`([]+|["'`)\].:]+$/g, "")
      .trim()
      .toLowerCase();
  const wanted = clean(raw);
  const found = choices.filter((c) => clean(c) === wanted);
  return found.length === 1 ? found[0] : undefined;
}

export interface ParsedAnswer {
  choice: string;
  rationale: string | undefined;
}

/** Reads the forced tool call of a chat completion; throws a JudgeAnswerError that keeps any rationale. */
export function parseAnswer(response: ChatCompletion, choices: string[]): ParsedAnswer {
  const message = response?.choices?.[0]?.message;
  if (message === undefined) {
    throw new JudgeAnswerError(
      "The LLM provider's answer has no message (choices[0].message is missing).",
      undefined,
      undefined,
    );
  }
  const content = textOf(message.content);
  // Why the answer stopped, when it says: cut at the token cap, or by a content filter.
  const finish = (response?.choices?.[0] as { finish_reason?: unknown } | undefined)?.finish_reason;
  const stopped =
    finish === "length"
      ? ' The answer was cut off at its token limit (finish_reason "length"): raise maxTokens, or set useCoT: false for a shorter answer.'
      : finish === "content_filter"
        ? ' The provider\'s content filter stopped the answer (finish_reason "content_filter").'
        : "";
  const call = message.tool_calls?.find((c) => c?.function?.name === TOOL_NAME) ?? message.tool_calls?.[0];
  if (call?.function === undefined) {
    throw new JudgeAnswerError(
      `The model did not call \`${TOOL_NAME}\`, so no choice was made.${stopped}`,
      content,
      undefined,
    );
  }
  const given = call.function.arguments;
  let args: unknown = given;
  if (typeof given === "string") {
    try {
      args = JSON.parse(given);
    } catch {
      throw new JudgeAnswerError(
        `The model's \`${TOOL_NAME}\` arguments are not valid JSON: ${JSON.stringify(clip(given, 300))}.${stopped}`,
        content,
        undefined,
      );
    }
  }
  const a = (typeof args === "object" && args !== null ? args : {}) as Record<string, unknown>;
  const reasons = a.reasoning ?? a.reasons;
  const rationale =
    (Array.isArray(reasons)
      ? reasons.map(String).join("\n")
      : typeof reasons === "string"
        ? reasons
        : undefined) ?? content;
  const raw = a.choice;
  if (typeof raw !== "string") {
    throw new JudgeAnswerError(`The model called \`${TOOL_NAME}\` without a choice.`, rationale, undefined);
  }
  const choice = matchChoice(raw, choices);
  if (choice === undefined) {
    throw new JudgeAnswerError(
      `The model chose ${JSON.stringify(raw)}, which is not one of ${choices.map((c) => JSON.stringify(c)).join(", ")}.`,
      rationale,
      raw,
    );
  }
  return { choice, rationale };
}
