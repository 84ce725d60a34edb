import { readFileSync } from "node:fs";
import path from "node:path";
import { ownPackageRoot } from "./own-package.js";

let version: string | undefined;

export function evalrunVersion(): string {
  version ??= (
    JSON.parse(readFileSync(path.join(ownPackageRoot(), "package.json"), "utf8")) as { version: string }
  ).version;
  return version;
}
