import { readFileSync } from "node:fs";

const cache = new Map<string, string | undefined>();

function source(file: string): string | undefined {
  if (!cache.has(file)) {
    try {
      cache.set(file, readFileSync(file, "utf8"));
    } catch {
      cache.set(file, undefined);
    }
  }
  return cache.get(file);
}

/**
 * The line of `Eval("name", ...)` in an eval file (1-based), so an annotation lands on the eval it is about; the
 * first `Eval(` when the name is not a literal there, else line 1.
 */
export function evalLine(file: string, name: string): number {
  const text = source(file);
  if (text === undefined) return 1;
  // The name is not a string when it is the mistake being reported (an unset variable): the first Eval( then.
  const quoted = typeof name === "string" ? name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") : undefined;
  const exact = quoted === undefined ? null : new RegExp(`\\bEval\\s*\\(\\s*(["'\`])${quoted}\\1`).exec(text);
  const any = exact ?? /\bEval\s*\(/.exec(text);
  return any ? text.slice(0, any.index).split("\n").length : 1;
}
