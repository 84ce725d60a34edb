import { existsSync } from "node:fs";
import path from "node:path";
import type { GitInfo } from "../store/types.js";

const none = (): GitInfo => ({ commit: null, branch: null, dirty: null });

/**
 * Whether git could find a repository from `cwd`: GIT_DIR is set, or `cwd` or a directory above it has a `.git`
 * (a directory, or the file of a worktree or submodule) or is a bare repository. Outside one every git command
 * fails, so none is started: child_process and the git processes cost a start-up some 15 ms.
 */
function mayBeInRepository(cwd: string): boolean {
  if (process.env.GIT_DIR) return true;
  let dir = path.resolve(cwd);
  for (;;) {
    if (existsSync(path.join(dir, ".git"))) return true;
    if (["HEAD", "objects", "refs"].every((name) => existsSync(path.join(dir, name)))) return true;
    const parent = path.dirname(dir);
    if (parent === dir) return false;
    dir = parent;
  }
}

async function git(args: string[], cwd: string): Promise<string | null> {
  const { execFile } = await import("node:child_process");
  return new Promise((resolve) => {
    execFile("git", args, { cwd, timeout: 3000, windowsHide: true }, (error, stdout) => {
      resolve(error ? null : stdout.trim());
    });
  });
}

/** Branch, short commit and whether tracked files changed; nulls outside a git work tree or without git. */
export async function gitInfo(cwd: string): Promise<GitInfo> {
  if (!mayBeInRepository(cwd)) return none();
  // Two processes, not three: status's v2 header names the branch. The short commit is git's own abbreviation
  // (7 characters, more in a large repository), as `git log --oneline` shows it.
  const [commit, status] = await Promise.all([
    git(["rev-parse", "--short", "HEAD"], cwd),
    git(["status", "--porcelain=v2", "--branch", "--untracked-files=no"], cwd),
  ]);
  if (!commit) return none();
  if (status === null) return { commit, branch: null, dirty: null };
  const lines = status.split("\n");
  const head = lines.find((line) => line.startsWith("# branch.head "))?.slice("# branch.head ".length);
  return {
    commit,
    branch: head === undefined ? null : head === "(detached)" ? "detached" : head,
    dirty: lines.some((line) => line !== "" && !line.startsWith("#")),
  };
}
