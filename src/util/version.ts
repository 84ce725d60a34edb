import { readFileSync } from "node:fs";
import path from "node:path";
import { ownPackageRoot } from "./own-package.js";

export function evalrunVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(ownPackageRoot(), "package.json"), "utf8")) as {
    version: string;
  };
  return pkg.version;
}
