import { stripVTControlCharacters } from "node:util";

/** A value on one line, at most `width` characters: strings as they are, the rest as JSON. */
export function preview(value: unknown, width = 100): string {
  let text: string;
  if (value === undefined) text = "–";
  else if (typeof value === "string") text = JSON.stringify(value);
  else text = JSON.stringify(value) ?? String(value);
  text = text.replace(/\s+/g, " ");
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
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
