/**
 * A small mustache-like renderer for judge prompts: `{{name}}` and `{{{name}}}` (the same here: a prompt is not
 * HTML, so nothing is escaped), dotted paths (`{{metadata.topic}}`), sections `{{#name}}…{{/name}}` (repeated for
 * each item of an array, `{{.}}` being the item), inverted sections `{{^name}}…{{/name}}` and comments `{{! … }}`.
 * Strings render as they are, chat messages as a transcript, other objects as JSON, null and missing values as
 * nothing.
 */
import { EvalrunError } from "../../define/errors.js";

type Node =
  | { kind: "text"; text: string }
  | { kind: "var"; path: string[] }
  | { kind: "section"; name: string; path: string[]; inverted: boolean; children: Node[] };

export interface Template {
  render(view: Record<string, unknown>): string;
}

function position(source: string, offset: number): string {
  const before = source.slice(0, offset);
  const line = before.split("\n").length;
  return `line ${line}, column ${offset - before.lastIndexOf("\n")}`;
}

function splitPath(name: string): string[] {
  return name === "." ? ["."] : name.split(".");
}

/** Section, inverted, close and comment tags alone on their line leave no blank line behind (as in mustache). */
const STANDALONE = new Set(["#", "^", "/", "!"]);

/** Parses once (errors name the line and column); rendering is then a walk over the nodes. */
export function parseTemplate(source: string, what = "The prompt template"): Template {
  const fail = (message: string, offset: number): never => {
    throw new EvalrunError("LLM_CONFIG", `${what} ${message} (at ${position(source, offset)}).`);
  };
  const root: Node[] = [];
  const stack: Array<{ node: Extract<Node, { kind: "section" }>; offset: number }> = [];
  const current = () => stack.at(-1)?.node.children ?? root;
  let pos = 0;
  // Where text may be trimmed back to for a standalone tag: nothing before the last tag's end.
  let lastTagEnd = 0;
  while (pos < source.length) {
    const open = source.indexOf("{{", pos);
    if (open < 0) break;
    const triple = source.startsWith("{{{", open);
    const close = source.indexOf(triple ? "}}}" : "}}", open + (triple ? 3 : 2));
    if (close < 0) fail(`has a "${triple ? "{{{" : "{{"}" that is never closed`, open);
    let end = close + (triple ? 3 : 2);
    const inner = source.slice(open + (triple ? 3 : 2), close).trim();
    const sigil = triple ? "" : /^[#^/!&>=]/.test(inner) ? (inner[0] as string) : "";
    const name = (sigil === "" ? inner : inner.slice(1)).trim();
    let textEnd = open;
    if (STANDALONE.has(sigil)) {
      const lineStart = source.lastIndexOf("\n", open - 1) + 1;
      const newline = source.indexOf("\n", end);
      const lineEnd = newline < 0 ? source.length : newline;
      if (
        lineStart >= lastTagEnd &&
        source.slice(lineStart, open).trim() === "" &&
        source.slice(end, lineEnd).trim() === ""
      ) {
        textEnd = lineStart;
        end = newline < 0 ? source.length : newline + 1;
      }
    }
    if (textEnd > pos) current().push({ kind: "text", text: source.slice(pos, textEnd) });
    pos = end;
    lastTagEnd = end;
    if (sigil === "!") continue;
    if (sigil === ">" || sigil === "=")
      fail(`uses "{{${sigil}", which evalrun's templates do not support`, open);
    if (name === "") fail("has an empty tag", open);
    if (sigil === "#" || sigil === "^") {
      const node = {
        kind: "section" as const,
        name,
        path: splitPath(name),
        inverted: sigil === "^",
        children: [],
      };
      current().push(node);
      stack.push({ node, offset: open });
    } else if (sigil === "/") {
      const top = stack.pop();
      if (top === undefined) fail(`closes {{/${name}}}, which was never opened`, open);
      else if (top.node.name !== name)
        fail(`closes {{/${name}}} where {{/${top.node.name}}} was expected`, open);
    } else {
      current().push({ kind: "var", path: splitPath(name) });
    }
  }
  if (pos < source.length) current().push({ kind: "text", text: source.slice(pos) });
  const unclosed = stack.pop();
  if (unclosed) fail(`opens {{#${unclosed.node.name}}} and never closes it`, unclosed.offset);
  return { render: (view) => renderNodes(root, [view]) };
}

function lookup(path: string[], contexts: unknown[]): unknown {
  const [head, ...rest] = path as [string, ...string[]];
  if (head === ".") return contexts.at(-1);
  let value: unknown;
  let found = false;
  for (let i = contexts.length - 1; i >= 0 && !found; i--) {
    const context = contexts[i];
    if (typeof context === "object" && context !== null && head in context) {
      value = (context as Record<string, unknown>)[head];
      found = true;
    }
  }
  for (const key of rest) {
    if (value === undefined || value === null) return undefined;
    if (typeof value === "object") value = (value as Record<string, unknown>)[key];
    // A string's own properties (`{{output.length}}`, an index), as mustache reads them; not its methods.
    else
      value = Object.hasOwn(Object(value), key) ? (Object(value) as Record<string, unknown>)[key] : undefined;
  }
  return value;
}

interface Message {
  role: string;
  content: unknown;
}

const isMessage = (value: unknown): value is Message =>
  typeof value === "object" &&
  value !== null &&
  !Array.isArray(value) &&
  typeof (value as { role?: unknown }).role === "string" &&
  "content" in value;

/** A message's text: a string, or the text parts of a list of content parts (images and the like are left out). */
function messageText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    const texts = content
      .map((part) => (typeof part === "string" ? part : (part as { text?: unknown } | null)?.text))
      .filter((text): text is string => typeof text === "string");
    if (texts.length > 0 || content.length === 0) return texts.join("\n");
  }
  return content === undefined || content === null ? "" : formatValue(content);
}

/**
 * A chat transcript as a judge reads it best, and as autoevals renders one: `Role:` and the text indented, one
 * message after another; messages with no text are left out.
 */
function transcript(messages: Message[]): string {
  const blocks: string[] = [];
  for (const message of messages) {
    const text = messageText(message.content);
    if (text === "") continue;
    const role = message.role.charAt(0).toUpperCase() + message.role.slice(1);
    blocks.push(`${role}:\n${text.replace(/^/gm, "  ")}`);
  }
  return blocks.join("\n\n");
}

/** How a value reads in a prompt: chat messages as a transcript, other objects as JSON. */
export function formatValue(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
    return String(value);
  if (Array.isArray(value) && value.length > 0 && value.every(isMessage)) return transcript(value);
  if (isMessage(value)) return `${value.role}: ${messageText(value.content)}`;
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    // Cycles: a prompt with a partial value beats a judge that cannot run.
    return String(value);
  }
}

function renderNodes(nodes: Node[], contexts: unknown[]): string {
  let out = "";
  for (const node of nodes) {
    if (node.kind === "text") out += node.text;
    else if (node.kind === "var") out += formatValue(lookup(node.path, contexts));
    else {
      const value = lookup(node.path, contexts);
      const empty = !value || (Array.isArray(value) && value.length === 0);
      if (node.inverted) {
        if (empty) out += renderNodes(node.children, contexts);
      } else if (Array.isArray(value)) {
        for (const item of value) out += renderNodes(node.children, [...contexts, item]);
      } else if (!empty) {
        // Any value is the section's context, so that `{{#expected}}Reference: {{.}}{{/expected}}` shows it.
        out += renderNodes(node.children, [...contexts, value]);
      }
    }
  }
  return out;
}
