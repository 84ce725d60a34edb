import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

/** The root of the running copy of evalrun (whether run from dist/ or from src/ under a test runner). */
export function ownPackageRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "evalrun"
    ) {
      root = dir;
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("evalrun: cannot find its own package.json");
    dir = parent;
  }
}

/** The public entry eval files get when their project does not install evalrun. */
export function ownEntry(): string {
  return path.join(ownPackageRoot(), "dist", "index.js");
}

/** True for a path inside evalrun's own code, which a user's stack frame never is. */
export function isOwnCode(file: string): boolean {
  const base = ownPackageRoot();
  return (
    file.startsWith(path.join(base, "dist") + path.sep) || file.startsWith(path.join(base, "src") + path.sep)
  );
}
