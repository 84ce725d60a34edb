#!/usr/bin/env node
import { main } from "../core.js";

// Stack traces from eval files point at their .ts lines (the bundles carry inline source maps).
process.setSourceMapsEnabled(true);
// Node's own exit, kept: while evals run, process.exit throws instead, so that eval code cannot end the run
// (engine/exit-guard.ts).
const exit = process.exit.bind(process);
// `evalrun | head` closes the pipe early; that is the reader's choice, not an error worth a stack. The run goes on
// with that stream's output dropped: it still stores every row, and exits with its own code (a failed gate read
// through `| head` must not pass).
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    stream.write = ((_chunk: unknown, encoding?: unknown, done?: unknown) => {
      const callback = typeof encoding === "function" ? encoding : done;
      if (typeof callback === "function") queueMicrotask(() => callback());
      return true;
    }) as typeof stream.write;
  });
}
// Exit explicitly: a task that ignored its timeout may still hold a timer, and the run is over.
exit(await main(process.argv.slice(2)));
