import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { gitInfo } from "../../src/util/git.js";

const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), "evalrun-git-")));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const env = {
  ...process.env,
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@t",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@t",
};
const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, { cwd, env, encoding: "utf8" }).trim();

function repository(name: string): string {
  const dir = path.join(root, name);
  mkdirSync(dir);
  git(dir, "init", "-q", "-b", "main");
  return dir;
}

function commit(dir: string): string {
  writeFileSync(path.join(dir, "a.txt"), String(Math.random()));
  git(dir, "add", "a.txt");
  git(dir, "commit", "-q", "-m", "x");
  return git(dir, "rev-parse", "--short", "HEAD");
}

describe("gitInfo", () => {
  it("is all nulls outside a repository", async () => {
    const dir = path.join(root, "plain");
    mkdirSync(dir);
    expect(await gitInfo(dir)).toEqual({ commit: null, branch: null, dirty: null });
  });

  it("is all nulls in a repository without a commit yet", async () => {
    expect(await gitInfo(repository("unborn"))).toEqual({ commit: null, branch: null, dirty: null });
  });

  it("names the branch and short commit, and says whether tracked files changed (from a subdirectory too)", async () => {
    const dir = repository("work");
    const sha = commit(dir);
    mkdirSync(path.join(dir, "sub"));
    expect(await gitInfo(path.join(dir, "sub"))).toEqual({ commit: sha, branch: "main", dirty: false });
    writeFileSync(path.join(dir, "untracked.txt"), "x");
    expect(await gitInfo(dir)).toEqual({ commit: sha, branch: "main", dirty: false });
    writeFileSync(path.join(dir, "a.txt"), "changed");
    expect(await gitInfo(dir)).toEqual({ commit: sha, branch: "main", dirty: true });
    git(dir, "add", "a.txt"); // staged, not committed: still a change
    expect(await gitInfo(dir)).toEqual({ commit: sha, branch: "main", dirty: true });
  });

  it("says detached for a detached HEAD, and reads a linked worktree (a .git file)", async () => {
    const dir = repository("detached");
    const sha = commit(dir);
    git(dir, "checkout", "-q", "--detach");
    expect(await gitInfo(dir)).toEqual({ commit: sha, branch: "detached", dirty: false });
    const linked = path.join(root, "linked");
    git(dir, "worktree", "add", "-q", "-b", "side", linked);
    expect(await gitInfo(linked)).toEqual({ commit: sha, branch: "side", dirty: false });
  });
});
