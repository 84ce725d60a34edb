#!/usr/bin/env node
import { setFlagsFromString } from "node:v8";

// Stack traces from eval files point at their .ts lines (the bundles carry inline source maps).
process.setSourceMapsEnabled(true);
// `evalrun | head` closes the pipe early; that is the reader's choice, not an error worth a stack.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}
const { main } = await import("../core.js");
// V8 gives a function a feedback vector only after some calls, and optimises it only after that: a 10,000-row run
// ends before its per-row functions are fast (W2 0.59 -> 0.52 s with feedback from the first call). Set once the
// CLI is loaded, so start-up does not pay it for code that runs once. Functions compiled later are the only ones
// it touches; it changes when V8 optimises, never what code does.
setFlagsFromString("--no-lazy-feedback-allocation");
// Exit explicitly: a task that ignored its timeout may still hold a timer, and the run is over.
process.exit(await main(process.argv.slice(2)));
