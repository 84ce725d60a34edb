import { execFile } from "node:child_process";
import type { GitInfo } from "../store/types.js";

function git(args: string[], cwd: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile("git", args, { cwd, timeout: 3000, windowsHide: true }, (error, stdout) => {
      resolve(error ? null : stdout.trim());
    });
  });
}

/** Branch, short commit and whether tracked files changed; nulls outside a git work tree or without git. */
export async function gitInfo(cwd: string): Promise<GitInfo> {
  const [branch, commit, status] = await Promise.all([
    git(["rev-parse", "--abbrev-ref", "HEAD"], cwd),
    git(["rev-parse", "--short", "HEAD"], cwd),
    git(["status", "--porcelain", "--untracked-files=no"], cwd),
  ]);
  if (!commit) return { commit: null, branch: null, dirty: null };
  return {
    commit,
    branch: branch === "HEAD" ? "detached" : branch,
    dirty: status === null ? null : status !== "",
  };
}
