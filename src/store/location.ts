import { existsSync } from "node:fs";
import path from "node:path";

/** The project root: the nearest directory from `cwd` up that has a package.json, else `cwd`. */
export function projectRoot(cwd: string): string {
  let dir = cwd;
  for (;;) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return cwd;
    dir = parent;
  }
}

export interface StoreLocationInput {
  cwd: string;
  /** `--store PATH`, or false for `--no-store`. */
  flag?: string | false | undefined;
  /** The config's `store` (already resolved against the config's directory). */
  config?: string | false | undefined;
}

/** Where the store lives: `--store`, then EVALRUN_STORE, then the config, then `.evalrun/evalrun.db`; false for none. */
export function storeLocation(input: StoreLocationInput): string | false {
  if (input.flag === false) return false;
  if (input.flag) return path.resolve(input.cwd, input.flag);
  const fromEnv = process.env.EVALRUN_STORE;
  if (fromEnv) return path.resolve(input.cwd, fromEnv);
  if (input.config === false) return false;
  if (input.config) return input.config;
  return path.join(projectRoot(input.cwd), ".evalrun", "evalrun.db");
}
