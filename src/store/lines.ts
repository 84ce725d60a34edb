import { closeSync, openSync, readSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";

const CHUNK = 1 << 16;

/**
 * A text file's lines, read synchronously a chunk at a time (memory stays bounded by the longest line). An import
 * writes inside one transaction, which must not span an await: another connection of the same process (two
 * `Eval()`s run directly, two `runEvals()`) would then wait on the lock the awaiting import holds, and time out.
 * Line ends are \n or \r\n, as JSON Lines allows.
 */
export function* readLinesSync(file: string): Generator<string> {
  const fd = openSync(file, "r");
  try {
    const decoder = new StringDecoder("utf8");
    const buffer = Buffer.allocUnsafe(CHUNK);
    // The line being read, in pieces: only each new chunk is searched for its end, so a line of megabytes (a
    // base64 image in an output) costs its length once, not once per chunk.
    const pending: string[] = [];
    for (;;) {
      const read = readSync(fd, buffer, 0, CHUNK, null);
      const text = read > 0 ? decoder.write(buffer.subarray(0, read)) : decoder.end();
      let start = 0;
      for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
        pending.push(text.slice(start, end));
        yield withoutCr(pending.join(""));
        pending.length = 0;
        start = end + 1;
      }
      if (start < text.length) pending.push(text.slice(start));
      if (read === 0) break;
    }
    const last = pending.join("");
    if (last !== "") yield withoutCr(last);
  } finally {
    closeSync(fd);
  }
}

const withoutCr = (line: string): string => (line.endsWith("\r") ? line.slice(0, -1) : line);
