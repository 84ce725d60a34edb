import path from "node:path";
import { userFrame } from "../util/stack.js";

export function formatSeconds(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(2)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

export function formatPercent(score: number | null): string {
  return score === null ? "–" : `${(score * 100).toFixed(1)}%`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** A path as the user would type it from `cwd`. */
export function shownPath(file: string | undefined, cwd: string): string {
  if (!file) return "(no file)";
  const relative = path.relative(cwd, file);
  return relative === "" || relative.startsWith("..") ? file : relative;
}

/** `file:line:col` of the user's frame in a stack, relative to `cwd`. */
export function stackLocation(stack: string | undefined, cwd: string): string | undefined {
  const frame = userFrame(stack);
  return frame ? `${shownPath(frame.file, cwd)}:${frame.line}:${frame.column}` : undefined;
}

/** A summary's token totals, `1,220 (1,150 prompt, 70 completion)`, or undefined when no call reported usage. */
export function tokenTotals(metrics: Record<string, { metric: number } | undefined>): string | undefined {
  if (metrics.tokens === undefined) return undefined;
  const count = (name: string) => (metrics[name]?.metric ?? 0).toLocaleString("en-US");
  return `${count("tokens")} (${count("prompt_tokens")} prompt, ${count("completion_tokens")} completion)`;
}
