import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ownPackageRoot } from "../util/own-package.js";

/** The directory of the package.json nearest `file` (its project), else the file's directory. */
function projectOf(file: string): string {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) return path.dirname(file);
  }
}

/**
 * A digest of the code a compiled eval file runs: its bundle (the eval file and every local module it imports, as
 * esbuild prints them, so comments and formatting do not count) without the source map, whose mappings move with
 * any line, and with the project's and evalrun's own directories as placeholders: the bundle names files by
 * absolute path, and the same code reached through a symlink, from a moved project or another evalrun install is
 * the same code. Undefined when there is no bundle (an eval defined in a file run directly) or it cannot be read.
 */
export function codeDigest(bundle: string | undefined, evalFile: string | undefined): string | undefined {
  if (bundle === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(bundle, "utf8");
  } catch {
    return undefined;
  }
  const map = text.lastIndexOf("\n//# sourceMappingURL=");
  if (map >= 0) text = text.slice(0, map);
  const roots = [ownPackageRoot(), ...(evalFile ? [projectOf(evalFile)] : [])];
  // Longest first, so that a project inside evalrun's directory (its own examples) is replaced whole.
  for (const root of roots.sort((a, b) => b.length - a.length)) {
    text = text.split(pathToFileURL(root).href).join("<root>").split(root).join("<root>");
  }
  // Packages are imported by file URL, wherever installed (a monorepo's hoisted node_modules, above the project):
  // their place is not the eval's code.
  text = text.replace(/file:\/\/\/[^"'`\s)]*/g, "<url>");
  return createHash("sha256").update(text).digest("hex").slice(0, 20);
}
