import { closeSync, existsSync, openSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { EvalrunError } from "../define/errors.js";
import { makeDirs } from "../util/make-dirs.js";
import { type EscapeStyle, inertForActions, onActions } from "./safe-text.js";
import { writeStdout } from "./stdout.js";

/** Where a reporter's output goes. */
export type Destination = { kind: "stdout" } | { kind: "file"; path: string; shown: string };

/** Makes a file's directory; a new `.evalrun/` gets the same `.gitignore` the store gives it. */
function makeDir(file: string): void {
  const dir = path.dirname(file);
  if (existsSync(dir)) return;
  makeDirs(dir);
  if (path.basename(dir) === ".evalrun") writeFileSync(path.join(dir, ".gitignore"), "*\n");
}

/**
 * Checks, before anything runs, that a report can be written where asked: an unwritable path found after a long
 * run would lose the report. A file made to check is removed again: a run refused before it starts (a bad flag, a
 * missing baseline) must not leave an empty report for a CI step to upload or parse.
 */
export function checkWritable(dest: Destination, what: string): void {
  if (dest.kind !== "file") return;
  try {
    makeDir(dest.path);
    const existed = existsSync(dest.path);
    closeSync(openSync(dest.path, "a"));
    if (!existed) unlinkSync(dest.path);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new EvalrunError(
      "USAGE",
      `${what}: cannot write ${dest.shown} (${e.code ?? "error"}: ${e.message.replace(/^[A-Z]+: /, "")}).`,
      "Point it at a file in a writable directory, e.g. --outfile junit=reports/junit.xml, or - for stdout.",
    );
  }
}

/**
 * Writes a whole report to its destination (a file is replaced, never appended to). On stdout on GitHub Actions,
 * a line of eval text that the runner would run as a workflow command is defused, in the report's own escapes.
 */
export function emit(dest: Destination, text: string, style: EscapeStyle = "text"): void {
  if (dest.kind === "stdout") {
    writeStdout(onActions() ? inertForActions(text, style) : text);
    return;
  }
  try {
    makeDir(dest.path);
    writeFileSync(dest.path, text);
  } catch (error) {
    // A full disk on a CI runner is the usual cause; the run's rows are stored by now.
    const e = error as NodeJS.ErrnoException;
    throw new EvalrunError(
      "REPORT",
      `Could not write the report ${dest.shown} (${e.code ?? "error"}: ${e.message.replace(/^[A-Z]+: /, "")}). The run itself finished (its results are in the store, unless it ran with --no-store).`,
      "Free space on the disk or point --outfile at another file; `evalrun show` and `evalrun export` give the results again.",
    );
  }
}

/** A stream that keeps what is written, for a streaming reporter whose output goes to a file at the end. */
export class MemoryStream extends Writable {
  private readonly chunks: Buffer[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.chunks.push(chunk);
    done();
  }

  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}
