// A run's selection of rows as the store keeps it: the flags (describeSelection's text), e.g. "--first 3 --filter a=b".

/** A selection's flags split into the rest and its --filter patterns (as describeSelection writes them). */
function splitFilters(flags: string): { rest: string; filters: string[] } {
  const [rest = "", ...filters] = flags.split(/(?:^| )--filter /);
  return { rest, filters };
}

/** Whether two selections (describeSelection's) pick the same rows: --filters all apply, in any order. */
export function sameSelection(a: string | undefined, b: string | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const x = splitFilters(a);
  const y = splitFilters(b);
  return x.rest === y.rest && JSON.stringify(x.filters.sort()) === JSON.stringify(y.filters.sort());
}

/** A selection's flags as a shell takes them back: each --filter's pattern quoted where it needs it. */
export function selectionArgs(flags: string): string {
  const { rest, filters } = splitFilters(flags);
  const quote = (text: string) => (/^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`);
  return [rest, ...filters.map((f) => `--filter ${quote(f)}`)].filter(Boolean).join(" ");
}
