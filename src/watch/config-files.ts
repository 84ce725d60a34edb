import { existsSync } from "node:fs";
import path from "node:path";
import { CONFIG_NAMES, findConfigFile, type LoadedConfig } from "../loader/config.js";
import { envFileCandidates } from "../loader/env-file.js";

/** The files a watch session restarts for: the config in use, what it imports, and where a new one would go. */
export class ConfigFiles {
  private lastInputs: readonly string[] = [];

  constructor(
    private readonly cwd: string,
    /** --config: a file, false for none, undefined to look for one. */
    private readonly explicit: string | false | undefined,
  ) {}

  /** The config file in use, or the one that failed to load. */
  file(): string | undefined {
    if (this.explicit === false) return undefined;
    if (this.explicit) return path.resolve(this.cwd, this.explicit);
    try {
      return findConfigFile(this.cwd);
    } catch {
      // Two config files: loading says so; the directories are watched, so removing one restarts the session.
      return undefined;
    }
  }

  /** Directories a config file is looked for in: from the current directory up to the project root. */
  dirs(): Set<string> {
    if (typeof this.explicit === "string")
      return new Set([path.dirname(path.resolve(this.cwd, this.explicit))]);
    const dirs = new Set<string>();
    let dir = this.cwd;
    for (;;) {
      dirs.add(dir);
      const parent = path.dirname(dir);
      if (existsSync(path.join(dir, "package.json")) || parent === dir) break;
      dir = parent;
    }
    return dirs;
  }

  /**
   * What the config imports: the loaded config's, else (while it is broken by a module it imports) the last good
   * load's, so that the module is still watched and fixing it restarts the session.
   */
  inputs(loaded: LoadedConfig | undefined): readonly string[] {
    if (loaded?.inputs) this.lastInputs = loaded.inputs;
    return loaded?.inputs ?? this.lastInputs;
  }

  /**
   * Whether a change touches the config: the file or what it imports, a config file appearing where one would be
   * found, or (while it is broken, `loaded` undefined) anything beside it.
   */
  touched(changed: Iterable<string>, loaded: LoadedConfig | undefined): boolean {
    if (this.explicit === false) return false;
    const deps = new Set([...(loaded?.file ? [loaded.file] : []), ...this.inputs(loaded)]);
    // The env file too: a model or key switched in .env applies from the restart.
    for (const envFile of envFileCandidates()) deps.add(envFile);
    const file = this.file();
    if (file) deps.add(file);
    const dirs = this.dirs();
    for (const changedFile of changed) {
      if (deps.has(changedFile)) return true;
      if (CONFIG_NAMES.includes(path.basename(changedFile)) && dirs.has(path.dirname(changedFile)))
        return true;
      if (!loaded && file && path.dirname(changedFile) === path.dirname(file)) return true;
    }
    return false;
  }
}
