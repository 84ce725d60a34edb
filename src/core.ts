// Everything past registering evals, as one module graph: the CLI (bin.ts), runEvals() and listEvals(), and a file
// run by itself (Eval() in direct mode) load this one module. esbuild cuts shared chunks by which entries reach a
// module, so an entry per command or reporter split the CLI into ~45 chunks and a run paid to resolve and link
// each; one entry leaves a few. Only third-party code that is big and rarely needed (zod, fast-glob, csv,
// cli-progress, tinypool, esbuild, undici) still loads on demand.
// The public entry too, though a run loads it anyway (eval files import it): reached from here, its modules share
// core's chunks instead of making chunks of their own (16 files at a run's start -> 8; W1 -3 ms, W2 -3 to -5 ms).
import "./index.js";

export { main } from "./cli/main.js";
export { runDirect } from "./runner/direct.js";
export { listEvals } from "./runner/list.js";
export { runEvals } from "./runner/run-evals.js";
