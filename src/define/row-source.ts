/**
 * Where a loaded row came from ("rows.jsonl:5"), for errors about the row: the engine knows only its index, which
 * counts neither blank lines nor the header, so "Row 2" named no line a user could open.
 *
 * Kept per load, not per row: a WeakMap entry and a string for each row made loadJsonl 40% slower on a 100 MB file
 * and held 35 MB more. A row is found by its index in the loaded array (rows given as loaded, or a prefix of
 * them); one the user mapped or filtered is named by its index alone. Kept on globalThis so that the loaders an
 * eval file imports and the engine agree even when they are two copies of evalrun.
 */
const KEY = Symbol.for("evalrun.loadedRows");
/** Loads remembered; older ones are forgotten (a row of theirs is then named by index). */
const KEPT = 64;

interface Load {
  rows: WeakRef<readonly unknown[]>;
  file: string;
  /** Each row's line, when the format has lines. */
  lines: Int32Array | undefined;
}

function loads(): Load[] {
  const holder = globalThis as { [KEY]?: Load[] };
  let found = holder[KEY];
  if (!found) {
    found = [];
    holder[KEY] = found;
  }
  return found;
}

export function noteLoadedRows(rows: readonly unknown[], file: string, lines?: Int32Array): void {
  const list = loads();
  for (let i = list.length - 1; i >= 0; i--) if (list[i]?.rows.deref() === undefined) list.splice(i, 1);
  list.push({ rows: new WeakRef(rows), file, lines });
  if (list.length > KEPT) list.shift();
}

/** "rows.jsonl:5" (or the file alone) for the row at `index` of a loaded array, if that is where it came from. */
export function rowSource(row: unknown, index: number): string | undefined {
  // A row that is not an object (a JSONL line holding a string or null) is found by its index just as well.
  if (row === undefined) return undefined;
  const list = loads();
  for (let i = list.length - 1; i >= 0; i--) {
    const load = list[i] as Load;
    if (load.rows.deref()?.[index] === row) {
      const line = load.lines?.[index];
      return line === undefined ? load.file : `${load.file}:${line}`;
    }
  }
  return undefined;
}
