// zod's mini build, not the classic one: the same checks and (with the English locale) the same messages, for a
// sixth of the code. Importing the classic build cost every run with a config file 56-66 ms; this one 9-18 ms.
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import type { EvalrunConfig } from "./config.js";

// The mini build leaves messages to a locale ("Invalid input" otherwise); the classic build sets this one itself.
z.config(en());

const positiveInt = z.number().check(z.int(), z.positive());
const nonEmpty = z.string().check(z.minLength(1));

// Kept beside EvalrunConfig; the satisfies clause below fails the typecheck when the two drift apart.
export const configSchema = z.strictObject({
  paths: z.optional(z.array(nonEmpty)),
  exclude: z.optional(z.array(nonEmpty)),
  maxConcurrency: z.optional(positiveInt),
  // Any whole number, however large (capped with a notice, as --workers is): z.int() stops at 2^53.
  workers: z.optional(
    z.union([z.number().check(z.minimum(0), z.refine(Number.isInteger)), z.literal("auto")]),
  ),
  trials: z.optional(positiveInt),
  // Node's longest timer; a longer one fires at once.
  timeout: z.optional(positiveInt.check(z.maximum(2_147_483_647))),
  filter: z.optional(z.array(z.string())),
  progress: z.optional(z.boolean()),
  envFile: z.optional(nonEmpty),
  passWithNoEvals: z.optional(z.boolean()),
  maxErrorRate: z.optional(z.number().check(z.minimum(0), z.maximum(1))),
  store: z.optional(z.union([nonEmpty, z.literal(false)])),
  baselineDir: z.optional(nonEmpty),
  gate: z.optional(
    z.strictObject({
      failOnRegression: z.optional(z.boolean()),
      maxDrop: z.optional(z.number().check(z.minimum(0), z.maximum(1))),
      confidence: z.optional(z.number().check(z.gt(0), z.lt(1))),
      requireBaseline: z.optional(z.boolean()),
      minScore: z.optional(z.array(nonEmpty)),
      rowThreshold: z.optional(z.array(nonEmpty)),
    }),
  ),
}) satisfies z.ZodMiniType<EvalrunConfig>;

export const configKeys = Object.keys(configSchema.shape);
