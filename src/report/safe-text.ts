/**
 * Characters that act on a terminal instead of showing: C0 and C1 controls but tab and newline (ANSI escapes,
 * BEL, a carriage return that overwrites the line), DEL, and the bidi controls that reorder what follows.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const escapeChar = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

/** User text (a model's output, an error message, a name) with those characters shown as `\u001b`. */
export function printable(text: string): string {
  return text.replace(/\r\n/g, "\n").replace(CONTROL, escapeChar);
}

/** User text on one line: `printable`, newlines as `\n`. */
export const oneLine = (text: string): string => printable(text).replace(/\n/g, "\\n");

/** `oneLine`, cut to `width` characters with an ellipsis. */
export function short(text: string, width: number): string {
  const line = oneLine(text);
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

/** A multi-line text whose lines after the first start with `prefix`, so they stay under the line they belong to. */
export const hanging = (text: string, prefix: string): string => text.split("\n").join(`\n${prefix}`);

/** The first `chars` characters and `lines` lines of a text, and how many characters were left out. */
export function clip(text: string, limits: { chars: number; lines: number }): { text: string; cut: number } {
  let end = Math.min(text.length, limits.chars);
  let newlines = 0;
  for (let i = 0; i < end; i++) {
    if (text[i] === "\n" && ++newlines === limits.lines) {
      end = i;
      break;
    }
  }
  return end >= text.length ? { text, cut: 0 } : { text: text.slice(0, end), cut: text.length - end };
}

/** How a report writes a character it must keep the runner from reading: each format has its own escape. */
export type EscapeStyle = "text" | "xml" | "markdown";

const COLON: Record<EscapeStyle, string> = { text: "\\u003a", xml: "&#58;", markdown: "\\:" };
const BRACKET: Record<EscapeStyle, string> = { text: "\\u005b", xml: "&#91;", markdown: "\\[" };

/**
 * GitHub Actions runs a log line as a workflow command when, leading whitespace trimmed, it starts with `::`, or
 * when it holds `##[` anywhere (the older syntax the runner still reads): text from an eval could stop the run's
 * commands (`::stop-commands::`), mask words or fake annotations. Such a line's first `:` (or the `[`) is written
 * escaped instead: `\u003a` (`\u005b`) in text, which is also a valid escape inside a JSON string (the only place
 * `##[` can be in JSON, and no JSON line starts with `::`), a character reference in XML, a backslash escape in
 * markdown. evalrun's own lines never start that way. Lines end where the runner ends them: at `\n`, `\r\n` or a
 * lone `\r`.
 */
export function inertForActions(text: string, style: EscapeStyle = "text"): string {
  return text
    .split(/(\r\n|\r|\n)/)
    .map((line, i) => {
      if (i % 2 === 1) return line;
      const safe = line.replace(/##\[/g, `##${BRACKET[style]}`);
      const start = /^[\s\u0085]*/.exec(safe)?.[0].length ?? 0;
      return safe.startsWith("::", start)
        ? `${safe.slice(0, start)}${COLON[style]}${safe.slice(start + 1)}`
        : safe;
    })
    .join("");
}

/** True on GitHub Actions, where what evalrun prints to the log must not run as a workflow command. */
export const onActions = (env: NodeJS.ProcessEnv = process.env): boolean => env.GITHUB_ACTIONS === "true";

/**
 * "row 38" (its place in the data, from 0) and, when the data gives ids, "row 38 (id q39)": the id is what the
 * user's file and the other views (show's low rows, the gate's worst rows) name it by.
 */
export function rowLabel(index: number, id: string | undefined): string {
  if (id === undefined || id === "") return `row ${index}`;
  const shown = oneLine(id);
  return `row ${index} (id ${shown.length > 40 ? `${shown.slice(0, 39)}…` : shown})`;
}
