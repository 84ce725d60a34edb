import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll } from "vitest";
import type { ExperimentSummary } from "../../src/summary/types.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BIN = path.join(ROOT, "dist", "bin.js");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for assertions that do not care which stream. */
  output: string;
  ms: number;
}

const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temporary project with the given files (paths relative to it); removed after the test file. */
export function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "evalrun-test-"));
  made.push(dir);
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  return dir;
}

export interface RunOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** Called once the child is spawned, e.g. to send it a signal later. */
  onSpawn?: (child: import("node:child_process").ChildProcess) => void;
}

/** Spawns the built CLI as a user would, without a terminal (so no colours and no progress bars). */
export function runCli(args: string[], options: RunOptions): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined };
    for (const [key, value] of Object.entries(options.env ?? {})) env[key] = value;
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk;
      output += chunk;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk;
      output += chunk;
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(`evalrun ${args.join(" ")} did not finish in ${options.timeoutMs ?? 20_000} ms\n${output}`),
      );
    }, options.timeoutMs ?? 20_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, output, ms: Date.now() - started });
    });
    options.onSpawn?.(child);
  });
}

/** Parses `--jsonl` stdout: one object per line. */
export function jsonLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The summary line of one eval from `--jsonl` output. */
export function summaryOf(stdout: string, name: string): Summary {
  const found = jsonLines(stdout).find((s) => s.project_name === name);
  if (!found) throw new Error(`no summary for ${name} in:\n${stdout}`);
  return found as unknown as Summary;
}

/** What `--jsonl` prints per eval. */
export type Summary = ExperimentSummary;

/** Waits until a fixture's task writes `file` (it has started), e.g. before sending the run a signal. */
export async function waitFor(file: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!existsSync(file)) {
    if (Date.now() > until) throw new Error(`${file} did not appear in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
