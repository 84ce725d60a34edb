import { isOwnCode } from "./own-package.js";

export interface StackFrame {
  file: string;
  line: number;
  column: number;
}

// A path right after "at " or "(": not the tail of "node:internal/process/task_queues:95:5", which once passed for
// a user's file "/process/task_queues".
const FRAME = /(?:^at |\()((?:file:\/\/)?\/[^():]+|[A-Za-z]:\\[^():]+):(\d+):(\d+)\)?$/;

function framesOf(stack: string): StackFrame[] {
  const frames: StackFrame[] = [];
  for (const line of stack.split("\n")) {
    const trimmed = line.trim();
    if (!trimmed.startsWith("at ")) continue;
    const match = FRAME.exec(trimmed);
    if (!match?.[1]) continue;
    frames.push({
      file: match[1].replace(/^file:\/\//, ""),
      line: Number(match[2]),
      column: Number(match[3]),
    });
  }
  return frames;
}

/**
 * The frame to show for an error in user code: the first in `preferFile` when given, else the first outside
 * node internals, node_modules and evalrun itself. Stacks are source-mapped already (the CLI enables it).
 */
export function userFrame(error: Error | string | undefined, preferFile?: string): StackFrame | undefined {
  const stack = typeof error === "string" ? error : error?.stack;
  if (!stack) return undefined;
  const frames = framesOf(stack);
  if (preferFile) {
    const own = frames.find((f) => f.file === preferFile);
    if (own) return own;
  }
  return frames.find((f) => !f.file.includes("/node_modules/") && !isOwnCode(f.file));
}
