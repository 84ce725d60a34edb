import fs, { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";

// Another process making the directory between evalrun's check and its mkdir: two runs started at once in a fresh
// checkout, each making `.evalrun/`.
let raceOn: string | undefined;
vi.mock("node:fs", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs")>();
  const mkdirSync: typeof real.mkdirSync = ((dir: fs.PathLike, options?: fs.MakeDirectoryOptions) => {
    if (raceOn !== undefined && path.resolve(String(dir)) === raceOn) {
      real.mkdirSync(dir, options);
      const error = new Error(`EEXIST: file already exists, mkdir '${String(dir)}'`) as NodeJS.ErrnoException;
      error.code = "EEXIST";
      throw error;
    }
    return real.mkdirSync(dir, options);
  }) as typeof real.mkdirSync;
  return { ...real, default: { ...real, mkdirSync }, mkdirSync };
});

const { makeDirs } = await import("../../src/util/make-dirs.js");

describe("makeDirs", () => {
  const root = mkdtempSync(path.join(os.tmpdir(), "evalrun-dirs-"));
  afterEach(() => {
    raceOn = undefined;
  });

  it("takes a directory another process made in between as made", () => {
    const dir = path.join(root, "a", ".evalrun");
    raceOn = dir;
    makeDirs(dir);
    expect(statSync(dir).isDirectory()).toBe(true);
  });

  it("still fails where a file stands in the way", () => {
    const file = path.join(root, "file");
    fs.writeFileSync(file, "");
    expect(() => makeDirs(path.join(file, "sub"))).toThrow(/is a file, not a directory/);
    expect(existsSync(path.join(file, "sub"))).toBe(false);
    rmSync(root, { recursive: true, force: true });
  });
});
