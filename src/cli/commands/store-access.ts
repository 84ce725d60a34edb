import path from "node:path";
import { EvalrunError } from "../../define/errors.js";
import { loadConfig } from "../../loader/config.js";
import { loadEnvFile } from "../../loader/env-file.js";
import { projectRoot, storeLocation } from "../../store/location.js";
import { type OpenedStore, openStore } from "../../store/open.js";

export interface StoreFlags {
  store?: string;
  config?: string;
  json?: boolean;
}

/** Opens the store the way a run would find it: --store, EVALRUN_STORE, the config's `store`, .evalrun/. */
export async function openCommandStore(flags: StoreFlags, create = false): Promise<OpenedStore> {
  const cwd = process.cwd();
  const { config, dir, file } = await loadConfig(cwd, flags.config);
  // The store is found as a run finds it, EVALRUN_STORE from the env file included. A missing env file named by
  // the config is the run's concern, not a reason to refuse to list experiments.
  try {
    loadEnvFile(
      cwd,
      config.envFile ? path.resolve(dir, config.envFile) : undefined,
      file ? dir : projectRoot(cwd),
    );
  } catch {
    // as above
  }
  const location = storeLocation({
    cwd,
    flag: flags.store,
    config: typeof config.store === "string" ? path.resolve(dir, config.store) : config.store,
  });
  if (location === false) {
    // An empty in-memory store would list nothing, and an import into it would say it kept what it threw away.
    throw new EvalrunError(
      "USAGE",
      "The config sets `store: false`, so there is no history to read or write.",
      "Name a store with --store PATH (or EVALRUN_STORE), or remove `store: false` from the config.",
    );
  }
  return openStore(location, { create });
}

export function writeJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
