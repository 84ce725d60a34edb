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
  const { prompt: _prompt, options: _options, messages: _messages, params, ...settings } = given;
  // Settings are flat in what build() returns (Braintrust's does so), ready to spread into a chat completion.
  const base: Record<string, unknown> = {
    ...settings,
    ...(isRecord(params) ? params : {}),
    ...(isRecord(options?.params) ? options.params : {}),
    ...(typeof options?.model === "string" ? { model: options.model } : {}),
  };
  const where = (i: number, part?: number) =>
    `The prompt parameter "${name}", message ${i}${part === undefined ? "" : ` part ${part}`},`;
  // Text is rendered wherever it is: a message's content, or the text parts of a content array.
  const render = (m: Message, i: number, vars: Record<string, unknown>): Message => {
    if (typeof m.content === "string")
      return { ...m, content: parseTemplate(m.content, where(i)).render(vars) };
    if (!Array.isArray(m.content)) return { ...m };
    const content = m.content.map((part: unknown, j) =>
      isRecord(part) && part.type === "text" && typeof part.text === "string"
        ? { ...part, text: parseTemplate(part.text, where(i, j)).render(vars) }
        : part,
    );
    return { ...m, content };
  };
  // Parsed once here, so that a malformed template is said when the parameter is first read, not per row.
  for (const [i, m] of (messages as Message[]).entries()) render(m, i, {});
  return {
    ...base,
    messages,
    build(vars = {}) {
      return { ...base, messages: (messages as Message[]).map((m, i) => render(m, i, vars)) } as BuiltPrompt;
    },
  };
}
