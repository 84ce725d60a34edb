import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  const bin = fileURLToPath(new URL("../../dist/bin.js", import.meta.url));
  if (!existsSync(bin)) {
    throw new Error("dist/bin.js is missing: run `npm run build` (npm test does it) before the tests.");
  }
}
