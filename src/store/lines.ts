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
    let rest = "";
    for (;;) {
      const read = readSync(fd, buffer, 0, CHUNK, null);
      const text = rest + (read > 0 ? decoder.write(buffer.subarray(0, read)) : decoder.end());
      let start = 0;
      for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
        yield text.slice(start, end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end);
        start = end + 1;
      }
      rest = text.slice(start);
      if (read === 0) break;
    }
    if (rest !== "") yield rest.endsWith("\r") ? rest.slice(0, -1) : rest;
  } finally {
    closeSync(fd);
  }
}
