import path from "node:path";
import type { CompileMessage } from "./compile.js";

/** Two lines under the source line, pointing at the column (like a compiler's code frame). */
export function codeFrame(message: CompileMessage): string | undefined {
  if (message.line === undefined || message.lineText === undefined) return undefined;
  let column = message.column ?? 0;
  let text = message.lineText;
  // A long line (a one-line JSON dataset, minified code) is shown as a window around the column: the whole line,
  // and a caret line as long, flooded terminals and CI logs with megabytes.
  if (text.length > FRAME_WIDTH) {
    const start = Math.max(0, Math.min(column - FRAME_WIDTH / 2, text.length - FRAME_WIDTH));
    const end = Math.min(text.length, start + FRAME_WIDTH);
    const before = start > 0 ? "…" : "";
    text = `${before}${text.slice(start, end)}${end < text.length ? "…" : ""}`;
    column = column - start + before.length;
  }
  const gutter = String(message.line);
  const pad = " ".repeat(gutter.length);
  const caret = "^".repeat(Math.max(1, Math.min(message.length, text.length - column, FRAME_WIDTH / 2)));
  return `${gutter} | ${text}\n${pad} | ${" ".repeat(column)}${caret}`;
}

/** Characters of a long line shown around the error's column. */
const FRAME_WIDTH = 160;

/** `file:line:col: message` and its code frame. */
export function formatCompileMessage(message: CompileMessage, cwd: string): string {
  if (!message.file || message.line === undefined) return message.text;
  const file = path.relative(cwd, path.resolve(cwd, message.file)) || message.file;
  const head = `${file}:${message.line}:${(message.column ?? 0) + 1}: ${message.text}`;
  const frame = codeFrame(message);
  return frame ? `${head}\n${frame}` : head;
}
