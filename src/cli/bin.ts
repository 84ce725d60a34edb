#!/usr/bin/env node
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
// Exit explicitly: a task that ignored its timeout may still hold a timer, and the run is over.
process.exit(await main(process.argv.slice(2)));
