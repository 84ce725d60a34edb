import { defineConfig } from "evalrun";

// Defaults for `npx evalrun`; a command-line flag overrides each of them.
export default defineConfig({
  paths: ["evals"],
  // maxConcurrency: 20,  // rows in flight across all evals
  // timeout: 30_000,     // per-row limit in ms
});
