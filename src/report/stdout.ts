import { Writable } from "node:stream";

/**
 * While a machine-readable report owns stdout (`--jsonl`, `--reporter json` on stdout), everything else written
 * there goes to stderr: a task's `console.log`, a file's top-level log, a worker thread's (Node pipes those into
 * this process's stdout). One stray line and `| jq`, or a JSON parse in CI, fails.
 */
let own: ((text: string) => boolean) | undefined;

/** Sends other writes to stdout to stderr until the returned function is called. */
export function reserveStdout(): () => void {
  const stdout = process.stdout;
  const original = stdout.write;
  own = (text) => original.call(stdout, text);
  const diverted = ((chunk: unknown, encoding?: unknown, done?: unknown) =>
    (process.stderr.write as (...args: unknown[]) => boolean)(chunk, encoding, done)) as typeof stdout.write;
  stdout.write = diverted;
  return () => {
    if (stdout.write === diverted) stdout.write = original;
    own = undefined;
  };
}

/** Writes evalrun's own output to stdout, reserved or not. */
export function writeStdout(text: string): boolean {
  return own ? own(text) : process.stdout.write(text);
}

/** stdout as a stream for a reporter: its writes are evalrun's own. */
export function stdoutStream(): Writable {
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      writeStdout(typeof chunk === "string" ? chunk : chunk.toString("utf8"));
      done();
    },
  });
}
