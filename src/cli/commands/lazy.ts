// Every command but a run, and watch mode, as one module loaded when one of them runs: a run's start then parses
// none of their code. It imports core for its side effect only: a dynamic entry reaching modules core also reaches
// would give those modules chunks of their own, loaded by every run (esbuild cuts chunks by which entries reach a
// module); through core, all of them are reached by this entry too, and only code of these commands alone is apart.
import "../../core.js";

export { watchCommand } from "../../watch/watch-command.js";
export { initCommand } from "../init-command.js";
export { baselineSaveCommand } from "./baseline.js";
export { compareCommand } from "./compare.js";
export { experimentsCommand } from "./experiments.js";
export { mergeCommand } from "./merge.js";
export { showCommand } from "./show.js";
export { exportCommand, importCommand, pruneCommand } from "./transfer.js";
