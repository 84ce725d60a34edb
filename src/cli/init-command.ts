import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { EvalrunError } from "../define/errors.js";
import { findConfigFile } from "../loader/config.js";
import { ALWAYS_EXCLUDED, EVAL_FILE_GLOB } from "../loader/discover.js";
import { colorsFor } from "../report/colors.js";
import { projectRoot } from "../store/location.js";
import { ownPackageRoot } from "../util/own-package.js";

/** Template file → where it goes in the user's project. */
const FILES: Array<[string, string]> = [
  ["example.eval.ts", path.join("evals", "example.eval.ts")],
  ["evalrun.config.ts", "evalrun.config.ts"],
];

/**
 * Writes the starter files that do not exist yet at the project's root (the nearest package.json, where runs look
 * for the config and keep the store); an existing file is left as it is and named.
 */
export async function initCommand(cwd: string): Promise<number> {
  const c = colorsFor(process.stdout);
  const templates = path.join(ownPackageRoot(), "templates");
  const root = projectRoot(cwd);
  let written = 0;
  let projectConfig: string | undefined;
  for (const [template, file] of FILES) {
    const destination = path.join(root, file);
    const target = path.relative(cwd, destination);
    if (existsSync(destination)) {
      process.stdout.write(
        `${c.yellow("skip")}   ${target} (already exists; evalrun init never overwrites)\n`,
      );
      continue;
    }
    // A config here or in a parent (up to the project's root) is the project's config already: a second one
    // would take over from it, for runs started here.
    const config = file === "evalrun.config.ts" && findConfigFile(cwd);
    if (config) {
      projectConfig = path.relative(cwd, config) || config;
      process.stdout.write(`${c.yellow("skip")}   ${target} (${projectConfig} is this project's config)\n`);
      continue;
    }
    try {
      await mkdir(path.dirname(destination), { recursive: true });
      if (file === "evalrun.config.ts") {
        // Eval files already elsewhere (a ported project's src/**/*.eval.ts): `paths: ["evals"]` would silently
        // stop `npx evalrun` from running them, so the config leaves paths out and every eval file runs.
        const elsewhere = await evalFilesOutside(root, "evals");
        let text = await readFile(path.join(templates, template), "utf8");
        if (elsewhere.length > 0) {
          text = text.replace(
            /^(\s*)paths: \["evals"\],/m,
            '$1// paths: ["evals"],  // left out: eval files outside evals/ run too (every *.eval.ts here)',
          );
          process.stdout.write(
            `${c.dim(`found ${elsewhere.length} eval file(s) outside evals/ (${elsewhere.slice(0, 3).join(", ")}${elsewhere.length > 3 ? ", …" : ""}): the config sets no paths, so npx evalrun runs them too`)}\n`,
          );
        }
        await writeFile(destination, text, { flag: "wx" });
      } else await copyFile(path.join(templates, template), destination);
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
  const example = path.relative(cwd, path.join(root, "evals", "example.eval.ts"));
  // The project's own config decides what a plain run finds (its paths may leave evals/ out): name the file.
  const next = projectConfig
    ? `${c.bold(`npx evalrun ${example}`)} runs it (a plain npx evalrun runs the files ${projectConfig} selects)`
    : `${c.bold("npx evalrun")} runs it`;
  process.stdout.write(
    written > 0
      ? `\nNext: ${next}. Edit ${example} to call your own model or code.\n`
      : "\nNothing to do: the starter files are already here.\n",
  );
  return 0;
}

/** Eval files under `cwd` that are not in `dir`, relative to `cwd`. */
async function evalFilesOutside(cwd: string, dir: string): Promise<string[]> {
  const { default: fg } = await import("fast-glob");
  const found = await fg(EVAL_FILE_GLOB, { cwd, ignore: [...ALWAYS_EXCLUDED, `${dir}/**`], onlyFiles: true });
  return found.sort();
}
