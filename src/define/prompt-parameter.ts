import { parseTemplate } from "../scorers/llm/template.js";

/** A chat message of a prompt, as OpenAI's API takes it. */
interface Message {
  role: string;
  content?: unknown;
  [key: string]: unknown;
}

/** What `build()` returns: the request body's model, messages and other settings, ready for a chat completion. */
export interface BuiltPrompt {
  model?: string;
  messages: Message[];
  [key: string]: unknown;
}

/** Braintrust's prompt parameter as a task receives it: its settings, and `build(vars)` to render it. */
export interface PromptParameter {
  build(vars?: Record<string, unknown>): BuiltPrompt;
  [key: string]: unknown;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The value of a `{ type: "prompt", default }` parameter (Braintrust's remote-eval and playground pattern): `default` holds
 * `messages` and `model` (and any other settings), or Braintrust's stored form `{ prompt: { messages }, options:
 * { model, params } }`. `build(vars)` renders the mustache variables of each message's text with `vars`.
 */
export function promptParameter(name: string, spec: Record<string, unknown>): unknown {
  const given = spec.default;
  // Anything but a chat prompt (a template string, say) is its default as it is, as other parameters are.
  if (!isRecord(given)) return given;
  const stored = isRecord(given.prompt) ? given.prompt : undefined;
  const options = isRecord(given.options) ? given.options : undefined;
  const messages = (stored?.messages ?? given.messages) as unknown;
  if (!Array.isArray(messages) || !messages.every((m) => isRecord(m) && typeof m.role === "string"))
    return given;
  const { prompt: _prompt, options: _options, messages: _messages, ...settings } = given;
  const base: Record<string, unknown> = {
    ...settings,
    ...(isRecord(options?.params) ? options.params : {}),
    ...(typeof options?.model === "string" ? { model: options.model } : {}),
  };
  const templates = (messages as Message[]).map((m, i) =>
    typeof m.content === "string"
      ? parseTemplate(m.content, `The prompt parameter "${name}", message ${i},`)
      : undefined,
  );
  return {
    ...base,
    messages,
    build(vars = {}) {
      return {
        ...base,
        messages: (messages as Message[]).map((m, i) => {
          const template = templates[i];
          return template ? { ...m, content: template.render(vars) } : { ...m };
        }),
      } as BuiltPrompt;
    },
  };
}
