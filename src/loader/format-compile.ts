import path from "node:path";
import type { CompileMessage } from "./compile.js";

/** Two lines under the source line, pointing at the column (like a compiler's code frame). */
export function codeFrame(message: CompileMessage): string | undefined {
  if (message.line === undefined || message.lineText === undefined) return undefined;
  const column = message.column ?? 0;
  const gutter = String(message.line);
  const pad = " ".repeat(gutter.length);
  const caret = "^".repeat(Math.max(1, Math.min(message.length, message.lineText.length - column)));
  return `${gutter} | ${message.lineText}\n${pad} | ${" ".repeat(column)}${caret}`;
}

/** `file:line:col: message` and its code frame. */
export function formatCompileMessage(message: CompileMessage, cwd: string): string {
  if (!message.file || message.line === undefined) return message.text;
  const file = path.relative(cwd, path.resolve(cwd, message.file)) || message.file;
  const head = `${file}:${message.line}:${(message.column ?? 0) + 1}: ${message.text}`;
  const frame = codeFrame(message);
  return frame ? `${head}\n${frame}` : head;
}
