import { z } from "zod";
import type { EvalrunConfig } from "./config.js";

const positiveInt = z.number().int().positive();

// Kept beside EvalrunConfig; the satisfies clause below fails the typecheck when the two drift apart.
export const configSchema = z.strictObject({
  paths: z.array(z.string().min(1)).optional(),
  exclude: z.array(z.string().min(1)).optional(),
  maxConcurrency: positiveInt.optional(),
  workers: z.union([z.number().int().min(0), z.literal("auto")]).optional(),
  trials: positiveInt.optional(),
  timeout: positiveInt.optional(),
  filter: z.array(z.string()).optional(),
  progress: z.boolean().optional(),
  envFile: z.string().min(1).optional(),
  passWithNoEvals: z.boolean().optional(),
  maxErrorRate: z.number().min(0).max(1).optional(),
  store: z.union([z.string().min(1), z.literal(false)]).optional(),
  baselineDir: z.string().min(1).optional(),
}) satisfies z.ZodType<EvalrunConfig>;

export const configKeys = Object.keys(configSchema.shape);
