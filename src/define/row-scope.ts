import type { AsyncLocalStorage } from "node:async_hooks";

/**
 * The row whose task or scorer is running synchronously right now. A judge called from a user's scorer with spread
 * arguments (`(args) => Factuality({ ...args, model })`, autoevals' usual pattern) receives no `signal`: the
 * engine's is a getter on the prototype, which a spread does not copy. The judge takes the row's signal from here
 * at its call, so row timeouts still stop its request and its token usage still counts for the row. After an
 * `await` another row's code may be running: an `async` scorer runs in `later`'s context, which follows it across
 * its awaits (made on the first async scorer: the async hooks it turns on cost every promise after it).
 * Kept on globalThis, as the usage map is, so that a second copy of evalrun in the thread sees the same row.
 */
export interface RowScope {
  current: { readonly signal: AbortSignal } | undefined;
  later?: AsyncLocalStorage<{ readonly signal: AbortSignal }> | undefined;
}

const KEY = Symbol.for("evalrun.rowScope.v1");

export function rowScope(): RowScope {
  const g = globalThis as { [KEY]?: RowScope };
  g[KEY] ??= { current: undefined };
  return g[KEY];
}

/** `args` with the running row's signal when it has none of its own (a spread copy of the engine's args). */
export function withRowSignal<Args extends { signal?: AbortSignal | undefined }>(args: Args): Args {
  if (args === null || typeof args !== "object" || args.signal !== undefined) return args;
  const scope = rowScope();
  const row = scope.current ?? scope.later?.getStore();
  return row === undefined ? args : { ...args, signal: row.signal };
}
