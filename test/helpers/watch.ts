import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll } from "vitest";
import { BIN } from "./cli.js";

/** The line watch mode prints once every run has finished and nothing is queued. */
export const IDLE = "Waiting for changes…";

export interface WatchOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  /** Read r, f and q from a stdin pipe (EVALRUN_WATCH_KEYS=1). */
  keys?: boolean;
}

export interface WatchedCli {
  child: ChildProcess;
  /** stdout and stderr so far, in the order they arrived. */
  output(): string;
  /** A position in the output: pass it as `since` to wait for what comes after it. */
  mark(): number;
  /**
   * Waits until the output after `since` matches, and returns the output from `since` to the end of the match.
   * Rejects after `timeoutMs` (default 20 s) or when the process exits first, with the output for context.
   */
  waitFor(pattern: RegExp | string, since?: number, timeoutMs?: number): Promise<string>;
  /** Writes a file of the project (path relative to it). */
  write(file: string, content: string): void;
  remove(file: string): void;
  /** Sends keys (needs `keys: true`). */
  press(keys: string): void;
  /** Resolves with the exit code and signal once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();
afterAll(() => {
  for (const child of running) child.kill("SIGKILL");
  running.clear();
});

/** Spawns `evalrun --watch` without a terminal (plain appended output) and keeps it running. */
export function watchCli(args: string[], options: WatchOptions): WatchedCli {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined };
  if (options.keys) env.EVALRUN_WATCH_KEYS = "1";
  for (const [key, value] of Object.entries(options.env ?? {})) env[key] = value;
  const child = spawn(process.execPath, [BIN, "--watch", ...args], {
    cwd: options.cwd,
    env,
    stdio: [options.keys ? "pipe" : "ignore", "pipe", "pipe"],
  });
  running.add(child);
  let output = "";
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk;
    for (const check of waiters) check();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  let ended = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("close", (code, signal) => {
      ended = true;
      running.delete(child);
      for (const check of waiters) check();
      resolve({ code, signal });
    });
  });

  const waitFor = (pattern: RegExp | string, since = 0, timeoutMs = 20_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const text = output.slice(since);
        const match = typeof pattern === "string" ? text.indexOf(pattern) : text.search(pattern);
        if (match !== -1) {
          const length = typeof pattern === "string" ? pattern.length : (pattern.exec(text)?.[0].length ?? 0);
          done();
          resolve(text.slice(0, match + length));
        } else if (ended) {
          done();
          reject(new Error(`evalrun --watch exited before printing ${String(pattern)}:\n${output}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(`no ${String(pattern)} in ${timeoutMs} ms after offset ${since}; output:\n${output}`),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  return {
    child,
    output: () => output,
    mark: () => output.length,
    waitFor,
    write: (file, content) => writeFileSync(path.join(options.cwd, file), content),
    remove: (file) => rmSync(path.join(options.cwd, file)),
    press: (keys) => {
      child.stdin?.write(keys);
    },
    exited,
  };
}

/** The evals whose results a stretch of watch output shows, in order (one entry per finished run). */
export function ranIn(text: string): string[] {
  return [...text.matchAll(/^[✔✘] (\S+) {2}\S+ · /gm)].map((m) => m[1] as string);
}

/** Process ids whose parent is `pid` (Linux /proc), e.g. the esbuild service a watch session starts. */
export function childPids(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name (in parentheses) may hold spaces; the parent id is the second field after it.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) found.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** Whether a process is still alive (and not a zombie). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
