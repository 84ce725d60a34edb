import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

/**
 * A digest of the code a compiled eval file runs: its bundle (the eval file and every local module it imports, as
 * esbuild prints them, so comments and formatting do not count) without the source map, whose mappings move with
 * any line. Undefined when there is no bundle (an eval defined in a file run directly) or it cannot be read.
 */
export function codeDigest(bundle: string | undefined): string | undefined {
  if (bundle === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(bundle, "utf8");
  } catch {
    return undefined;
  }
  const map = text.lastIndexOf("\n//# sourceMappingURL=");
  return createHash("sha256")
    .update(map >= 0 ? text.slice(0, map) : text)
    .digest("hex")
    .slice(0, 20);
}
