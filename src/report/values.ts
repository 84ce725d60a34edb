import { stripVTControlCharacters } from "node:util";

/** A value on one line: strings quoted, the rest as JSON, runs of white space as one space. */
function flat(value: unknown): string {
  if (value === undefined) return "–";
  const text = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.replace(/\s+/g, " ");
}

/** A value on one line, at most `width` characters: strings as they are, the rest as JSON. */
export function preview(value: unknown, width = 100): string {
  const text = flat(value);
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/**
 * Two values (a row's output before and after) previewed where they differ: LLM answers often share a long start,
 * and two previews of the same first `width` characters read as no change at all.
 */
export function previewPair(before: unknown, after: unknown, width = 100): [string, string] {
  const a = flat(before);
  const b = flat(after);
  let at = 0;
  while (at < a.length && at < b.length && a[at] === b[at]) at++;
  if (a === b || at < width - 10) return [preview(before, width), preview(after, width)];
  // From a little before the first difference, so that its context shows.
  const from = at - 10;
  const cut = (text: string) => {
    const rest = text.slice(from);
    return rest.length > width - 1 ? `…${rest.slice(0, width - 2)}…` : `…${rest}`;
  };
  return [cut(a), cut(b)];
}

/** `2026-11-29 21:50` from an ISO timestamp, in UTC. */
export function shortDate(iso: string): string {
  return iso.replace("T", " ").slice(0, 16);
}

/** Left-aligned text columns, padded to the widest cell (colour codes are not counted). */
export function table(rows: string[][], gap = "  "): string {
  const visible = (s: string) => stripVTControlCharacters(s).length;
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, visible(cell));
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - visible(cell))))
        .join(gap)
        .trimEnd(),
    )
    .join("\n");
}
