import { defineConfig } from "evalrun";

// In this repository `npx evalrun` runs the examples only (test fixtures and templates stay out).
export default defineConfig({
  paths: ["examples"],
});
