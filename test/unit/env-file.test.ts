import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadEnvFile } from "../../src/loader/env-file.js";

describe("loadEnvFile, loaded again as a watch session restarts", () => {
  const names = ["EVALRUN_T_SUB", "EVALRUN_T_ROOT", "EVALRUN_T_BOTH"];
  afterEach(() => {
    for (const name of names) delete process.env[name];
  });

  it("unsets what the working directory's .env set once it is deleted and the project's .env applies, and back", () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "evalrun-env-"));
    const sub = path.join(root, "sub");
    mkdirSync(sub);
    writeFileSync(path.join(root, ".env"), "EVALRUN_T_ROOT=root\nEVALRUN_T_BOTH=root\n");
    writeFileSync(path.join(sub, ".env"), "EVALRUN_T_SUB=sub\nEVALRUN_T_BOTH=sub\n");
    try {
      expect(loadEnvFile(sub, undefined, root).sort()).toEqual(["EVALRUN_T_BOTH", "EVALRUN_T_SUB"]);
      expect(process.env.EVALRUN_T_ROOT).toBeUndefined();

      rmSync(path.join(sub, ".env"));
      loadEnvFile(sub, undefined, root);
      expect(process.env.EVALRUN_T_SUB).toBeUndefined();
      expect(process.env.EVALRUN_T_ROOT).toBe("root");
      expect(process.env.EVALRUN_T_BOTH).toBe("root");

      // A new .env in the working directory hides the project's again.
      writeFileSync(path.join(sub, ".env"), "EVALRUN_T_SUB=again\n");
      loadEnvFile(sub, undefined, root);
      expect(process.env.EVALRUN_T_SUB).toBe("again");
      expect(process.env.EVALRUN_T_ROOT).toBeUndefined();
      expect(process.env.EVALRUN_T_BOTH).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("keeps a value the environment gave, whatever the files say", () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "evalrun-env-"));
    process.env.EVALRUN_T_BOTH = "shell";
    writeFileSync(path.join(root, ".env"), "EVALRUN_T_BOTH=file\n");
    try {
      expect(loadEnvFile(root, undefined, root)).toEqual([]);
      rmSync(path.join(root, ".env"));
      loadEnvFile(root, undefined, root);
      expect(process.env.EVALRUN_T_BOTH).toBe("shell");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
