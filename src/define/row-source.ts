/**
 * Where a loaded row came from ("rows.jsonl:5"), for errors about the row: the engine knows only its index, which
 * counts neither blank lines nor the header, so "Row 2" named no line a user could open. Kept on globalThis so
 * that the loaders an eval file imports and the engine agree even when they are two copies of evalrun.
 */
const KEY = Symbol.for("evalrun.rowSources");

function sources(): WeakMap<object, string> {
  const holder = globalThis as { [KEY]?: WeakMap<object, string> };
  let found = holder[KEY];
  if (!found) {
    found = new WeakMap();
    holder[KEY] = found;
  }
  return found;
}

export function noteRowSource(row: unknown, where: string): void {
  if (typeof row === "object" && row !== null) sources().set(row, where);
}

export function rowSource(row: unknown): string | undefined {
  return typeof row === "object" && row !== null ? sources().get(row) : undefined;
}
