import path from "node:path";
import { loadConfig } from "../../loader/config.js";
import { storeLocation } from "../../store/location.js";
import { type OpenedStore, openStore } from "../../store/open.js";

export interface StoreFlags {
  store?: string;
  config?: string;
  json?: boolean;
}

/** Opens the store the way a run would find it: --store, EVALRUN_STORE, the config's `store`, .evalrun/. */
export async function openCommandStore(flags: StoreFlags, create = false): Promise<OpenedStore> {
  const cwd = process.cwd();
  const { config, dir } = await loadConfig(cwd, flags.config);
  const location = storeLocation({
    cwd,
    flag: flags.store,
    config: typeof config.store === "string" ? path.resolve(dir, config.store) : config.store,
  });
  if (location === false) return openStore(false);
  return openStore(location, { create });
}

export function writeJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
