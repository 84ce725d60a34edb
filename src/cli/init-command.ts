import { existsSync } from "node:fs";
import { copyFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { EvalrunError } from "../define/errors.js";
import { findConfigFile } from "../loader/config.js";
import { colorsFor } from "../report/colors.js";
import { ownPackageRoot } from "../util/own-package.js";

/** Template file → where it goes in the user's project. */
const FILES: Array<[string, string]> = [
  ["example.eval.ts", path.join("evals", "example.eval.ts")],
  ["evalrun.config.ts", "evalrun.config.ts"],
];

/** Writes the starter files that do not exist yet; an existing file is left as it is and named. */
export async function initCommand(cwd: string): Promise<number> {
  const c = colorsFor(process.stdout);
  const templates = path.join(ownPackageRoot(), "templates");
  let written = 0;
  for (const [template, target] of FILES) {
    const destination = path.join(cwd, target);
    if (existsSync(destination)) {
      process.stdout.write(
        `${c.yellow("skip")}   ${target} (already exists; evalrun init never overwrites)\n`,
      );
      continue;
    }
    // A config here or in a parent (up to the project's root) is the project's config already: a second one
    // would take over from it, for runs started here.
    const config = target === "evalrun.config.ts" && findConfigFile(cwd);
    if (config) {
      const shown = path.relative(cwd, config) || config;
      process.stdout.write(`${c.yellow("skip")}   ${target} (${shown} is this project's config)\n`);
      continue;
    }
    try {
      await mkdir(path.dirname(destination), { recursive: true });
      await copyFile(path.join(templates, template), destination);
    } catch (error) {
      throw new EvalrunError(
        "INIT",
        `Could not write ${target}: ${(error as Error).message}`,
        "Check that the current directory is writable.",
      );
    }
    written++;
    process.stdout.write(`${c.green("create")} ${target}\n`);
  }
  process.stdout.write(
    written > 0
      ? `\nNext: ${c.bold("npx evalrun")} runs it. Edit evals/example.eval.ts to call your own model or code.\n`
      : "\nNothing to do: the starter files are already here.\n",
  );
  return 0;
}
