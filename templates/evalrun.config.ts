import { defineConfig } from "evalrun";

// Defaults for `npx evalrun`; a command-line flag overrides each of them.
export default defineConfig({
  paths: ["evals"],
  // maxConcurrency: 20,  // rows in flight across all evals
  // timeout: 30_000,     // per-row limit in ms
  // The team's gate policy, so that CI needs only `npx evalrun --ci` (README: "CI: regression gates").
  // gate: {
  //   failOnRegression: true,  // fail a score that dropped beyond noise against the baseline
  //   maxDrop: 0.02,           // ... by more than this
  //   minScore: ["0.5"],       // a floor for every score ("Factuality=0.8" for one)
  // },
});
