#!/usr/bin/env node
// Stack traces from eval files point at their .ts lines (the bundles carry inline source maps).
process.setSourceMapsEnabled(true);
const { main } = await import("./main.js");
// Exit explicitly: a task that ignored its timeout may still hold a timer, and the run is over.
process.exit(await main(process.argv.slice(2)));
