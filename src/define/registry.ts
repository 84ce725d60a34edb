import type { EvalDefinition } from "./types.js";

/**
 * Registration goes through globalThis so that an eval file which resolves another copy of evalrun (its own
 * node_modules, a bundled copy) still registers with the runner that loaded it.
 */
export interface Registry {
  /** "collect": a runner is loading files and will run what registers. "direct": a file was run by itself. */
  mode: "collect" | "direct";
  /** Absolute path of the file being loaded in collect mode. */
  currentFile: string | undefined;
  evals: EvalDefinition[];
  /**
   * Set by a runner while its loads are pending: takes an Eval() whose call stack runs through a bundle it is
   * loading (any mode: a load left to finish in the background may register after the runner moved on). False:
   * not one of its loads (or an older evalrun copy, which gives no scripts); `evals` and `currentFile` apply.
   */
  route?: ((definition: EvalDefinition, scripts: readonly string[]) => boolean) | undefined;
  /** Set by a direct-mode run so Eval() can start it without importing the runner into every load. */
  runDirect?: (definition: EvalDefinition) => Promise<unknown>;
}

const KEY = Symbol.for("evalrun.registry.v1");

export function getRegistry(): Registry {
  const holder = globalThis as unknown as Record<symbol, Registry | undefined>;
  let registry = holder[KEY];
  if (!registry) {
    registry = { mode: "direct", currentFile: undefined, evals: [] };
    holder[KEY] = registry;
  }
  return registry;
}
