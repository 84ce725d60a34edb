/**
 * Files an eval file reads through evalrun's loaders (loadJsonl, loadJson, loadCsv), reported to watch mode so a
 * change to one re-runs the evals that read it. The listener lives on globalThis, so a file that resolves another
 * copy of evalrun still reports to the runner that loaded it; with no listener (a normal run, a worker thread)
 * noting a file costs a property read.
 */
export type DependencyListener = (file: string) => void;

const KEY = Symbol.for("evalrun.dependencies.v1");

type Holder = Record<symbol, DependencyListener | undefined>;

export function noteDependency(file: string): void {
  (globalThis as unknown as Holder)[KEY]?.(file);
}

export function setDependencyListener(listener: DependencyListener | undefined): void {
  (globalThis as unknown as Holder)[KEY] = listener;
}
