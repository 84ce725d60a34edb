import { isUtf8 } from "node:buffer";
import { EvalrunError } from "./errors.js";
import { lineAndColumn } from "./json-position.js";

/** Past this, Node cannot hold a file's text as one string. */
const MAX_TEXT = 0x1fffffe8;

/** Bytes no encoding makes text Node can hold as one string (UTF-16 halves them): refused before they are read. */
export const MAX_FILE_BYTES = 2 * MAX_TEXT;

export function tooLarge(bytes: number, shown: string, loader: string): EvalrunError {
  return new EvalrunError(
    "BAD_DATA",
    `${loader} could not read ${shown}: at ${Math.round(bytes / 2 ** 20)} MB it is larger than the 512 MB of text Node can hold as one string, and ${loader} reads a file whole.`,
    "Read a file this size a line at a time: give `data` an async generator over readline's interface on fs.createReadStream(file), parsing each line; rows are then never all held in memory.",
  );
}

/**
 * The file's text: UTF-8 (its byte-order mark dropped), UTF-16 with a byte-order mark, or `encoding`. Bytes that
 * are not UTF-8 are an error, not U+FFFD: Excel's plain "CSV" (Windows-1252) turned every "café" into "caf\uFFFD",
 * and "café" and "cafè" into one input, without a word.
 */
export function decode(bytes: Buffer, shown: string, loader: string, encoding: string | undefined): string {
  const bom16 =
    bytes[0] === 0xff && bytes[1] === 0xfe
      ? "utf-16le"
      : bytes[0] === 0xfe && bytes[1] === 0xff
        ? "utf-16be"
        : undefined;
  const label = encoding ?? bom16;
  if (bytes.length > (label?.startsWith("utf-16") ? 2 * MAX_TEXT : MAX_TEXT))
    throw tooLarge(bytes.length, shown, loader);
  if (label !== undefined) {
    let decoder: InstanceType<typeof TextDecoder>;
    try {
      decoder = new TextDecoder(label);
    } catch {
      throw new EvalrunError(
        "USAGE",
        `${loader}(${JSON.stringify(shown)}): the encoding ${JSON.stringify(label)} is not one Node knows.`,
        'Pass a WHATWG encoding label, such as "utf-8", "windows-1252", "latin1" or "utf-16le".',
      );
    }
    return decoder.decode(bytes);
  }
  // UTF-16 without its byte-order mark: every other byte of ASCII text is NUL, which is valid UTF-8 (and which no
  // JSON or CSV text holds).
  const utf16 = bytes.subarray(0, 64).includes(0);
  if (utf16 || !isUtf8(bytes)) {
    const text = bytes.toString("utf8");
    const at = text.indexOf("\uFFFD");
    const line = at < 0 ? undefined : lineAndColumn(text, at).line;
    const where = `${shown}${line ? `:${line}` : ""}`;
    if (utf16) {
      throw new EvalrunError(
        "BAD_DATA",
        `${shown} is not UTF-8 text: it looks like UTF-16 without a byte-order mark (as some Windows tools write it).`,
        `Save it as UTF-8, or pass its encoding: ${loader}(file, { encoding: "utf-16le" }).`,
      );
    }
    // Letters other than ASCII read fine elsewhere: a UTF-8 file with a few bad bytes (text cut mid-character), which
    // Windows-1252 would misread throughout.
    if (/[\u0080-\uFFFC\uFFFE\uFFFF]/.test(text)) {
      const lines = badLines(text);
      // Many lines: rows pasted from a file in another encoding, not a character cut short; a lossy read would
      // turn every accented letter of theirs into U+FFFD.
      if (lines.length > 2) {
        throw new EvalrunError(
          "BAD_DATA",
          `${shown}: lines ${lines.slice(0, 5).join(", ")}${lines.length > 5 ? ", ..." : ""} hold bytes that are not UTF-8, in a file that is UTF-8 elsewhere: it mixes two encodings (rows pasted from a file saved as Windows-1252?).`,
          'Save those lines as UTF-8 (re-type or re-export them); no one encoding reads both parts. (If the whole file is Windows-1252, pass { encoding: "windows-1252" }.)',
        );
      }
      throw new EvalrunError(
        "BAD_DATA",
        `${where}: line ${line ?? "?"} holds bytes that are not UTF-8, in a file that is UTF-8 elsewhere (a character cut short, or text pasted from a file in another encoding?).`,
        `Fix that line, or read the file with such bytes replaced by "\uFFFD": ${loader}(file, { encoding: "utf-8" }).`,
      );
    }
    throw new EvalrunError(
      "BAD_DATA",
      `${where} is not UTF-8 text${line ? ` (line ${line} has a byte that is not)` : ""}: it was likely saved as Windows-1252 or Latin-1, as Excel's plain "CSV" format is, and reading it as UTF-8 would change its accented letters.`,
      `Save it as UTF-8 (Excel: "CSV UTF-8"), or pass its encoding: ${loader}(file, { encoding: "windows-1252" }).`,
    );
  }
  const text = bytes.toString("utf8");
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** The numbers of the lines holding U+FFFD (bytes that were not UTF-8), up to six. */
function badLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let from = 0;
  for (let at = text.indexOf("\uFFFD"); at >= 0 && lines.length < 6; at = text.indexOf("\uFFFD", at + 1)) {
    for (let nl = text.indexOf("\n", from); nl >= 0 && nl < at; nl = text.indexOf("\n", nl + 1)) {
      line++;
      from = nl + 1;
    }
    if (lines.at(-1) !== line) lines.push(line);
  }
  return lines;
}
