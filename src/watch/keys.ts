export type KeyAction = "rerun-all" | "rerun-failing" | "quit" | "interrupt";

/** What a key press asks for; undefined for keys that mean nothing here. */
export function keyAction(key: string): KeyAction | undefined {
  switch (key) {
    case "r":
    case "R":
      return "rerun-all";
    case "f":
    case "F":
      return "rerun-failing";
    case "q":
    case "Q":
      return "quit";
    // Ctrl-C and Ctrl-D: a terminal in raw mode sends them as characters instead of a signal or an end of input.
    case "\u0003":
      return "interrupt";
    case "\u0004":
      return "quit";
    default:
      return undefined;
  }
}

/**
 * Reads single key presses from stdin: raw mode on a terminal; on a pipe (EVALRUN_WATCH_KEYS=1) each character
 * written is a key. Escape sequences (arrows, function keys) are skipped whole, so their letters do nothing.
 */
export function listenForKeys(stdin: NodeJS.ReadStream, onAction: (action: KeyAction) => void): () => void {
  const raw = stdin.isTTY === true && typeof stdin.setRawMode === "function";
  if (raw) stdin.setRawMode(true);
  stdin.setEncoding("utf8");
  const onData = (chunk: string) => {
    if (chunk.startsWith("\u001b")) return;
    for (const key of chunk) {
      const action = keyAction(key);
      if (action) onAction(action);
    }
  };
  stdin.on("data", onData);
  stdin.resume();
  return () => {
    stdin.off("data", onData);
    if (raw) stdin.setRawMode(false);
    stdin.pause();
  };
}
