import { describeValue } from "../../define/errors.js";
import type { Awaitable, Score } from "../../define/types.js";
import { defineScorer, type HeuristicScorer } from "./define.js";
import type { SchemaCheck } from "./json-schema.js";
import { isStructured } from "./json-text.js";
import { andThen, isPromiseLike } from "./maybe-async.js";
import type { OptionKind, OptionKinds } from "./options.js";

/** Anything with zod's `safeParse` (zod 3 or 4, or a look-alike). */
export interface SafeParseSchema {
  safeParse(value: unknown): { success: boolean; error?: unknown };
}

/** A JSON Schema document (an object, or `true` / `false`). */
export type JsonSchema = { [key: string]: unknown } | boolean;

export interface ValidJSONOptions {
  /** A JSON Schema, or a zod schema, that the parsed output must satisfy. */
  schema?: JsonSchema | SafeParseSchema;
}

const NAME = "ValidJSON";

const schemaOption: OptionKind = {
  expects: "a JSON Schema (an object or a boolean) or a zod schema",
  example: '{ type: "object", required: ["answer"] }',
  problem(value) {
    if (typeof value === "boolean") return undefined;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return "must be a JSON Schema (an object or a boolean) or a zod schema";
    }
    const safeParse = (value as { safeParse?: unknown }).safeParse;
    if (safeParse !== undefined && typeof safeParse !== "function") {
      return "has a `safeParse` that is not a function, so it is neither a zod schema nor a JSON Schema";
    }
    return undefined;
  },
};

const options: OptionKinds<ValidJSONOptions> = { schema: schemaOption };

type SchemaModule = typeof import("./json-schema.js");

// Ajv loads on first use of a JSON Schema, so that importing evalrun does not load it.
let schemaLoading: Promise<SchemaModule> | undefined;
let schemas: SchemaModule | undefined;
const loadSchemas = (): Promise<SchemaModule> =>
  (schemaLoading ??= import("./json-schema.js").then((module) => {
    schemas = module;
    return module;
  }));

const compiled = new WeakMap<object, SchemaCheck>();
const compiledBooleans = new Map<boolean, SchemaCheck>();

/**
 * 1 when the output is JSON: a string that parses to an object or array, or an object or array already; else 0.
 * With `schema`, 1 when the output (parsed if it is a string) satisfies it, scalars included. A zod schema (anything
 * with `safeParse`) is used as it is; a JSON Schema is checked with Ajv (json-schema.ts). Why a value failed is in
 * the score's metadata (`error`).
 */
export const ValidJSON: HeuristicScorer<ValidJSONOptions, Score | Promise<Score>> = defineScorer<
  ValidJSONOptions,
  Score | Promise<Score>
>({
  name: NAME,
  options,
  prepare(chosen) {
    // Binding a JSON Schema starts loading Ajv, so that rows do not wait for it; a failure surfaces when used.
    if (chosen.schema !== undefined && !isSafeParse(chosen.schema)) loadSchemas().catch(() => {});
  },
  score(args, chosen) {
    let value: unknown = args.output;
    if (typeof value === "string") {
      try {
        value = JSON.parse(value);
      } catch (error) {
        return invalid(`The output is not JSON: ${(error as Error).message}.`);
      }
    }
    const schema = chosen.schema;
    if (schema === undefined) {
      return isStructured(value)
        ? { name: NAME, score: 1 }
        : invalid(`The output is ${describeValue(value)}, not a JSON object or array.`);
    }
    if (isSafeParse(schema)) return check(schema, value);
    const ready = compile(schema);
    return isPromiseLike(ready)
      ? Promise.resolve(ready).then((s) => checkJson(s, value))
      : checkJson(ready, value);
  },
});

function isSafeParse(schema: unknown): schema is SafeParseSchema {
  return typeof (schema as { safeParse?: unknown }).safeParse === "function";
}

function invalid(error: string): Score {
  return { name: NAME, score: 0, metadata: { error } };
}

function compile(schema: JsonSchema): Awaitable<SchemaCheck> {
  const cached = typeof schema === "boolean" ? compiledBooleans.get(schema) : compiled.get(schema);
  if (cached !== undefined) return cached;
  if (schemas === undefined) return loadSchemas().then(() => compile(schema));
  let result: SchemaCheck;
  try {
    result = schemas.compileJsonSchema(schema);
  } catch (error) {
    throw new Error(`${NAME} could not use its JSON Schema: ${(error as Error).message}.`);
  }
  if (typeof schema === "boolean") compiledBooleans.set(schema, result);
  else compiled.set(schema, result);
  return result;
}

function checkJson(schema: SchemaCheck, value: unknown): Score {
  const problem = schema(value);
  return problem === undefined
    ? { name: NAME, score: 1 }
    : invalid(`The output does not match the schema: ${problem}`);
}

function check(schema: SafeParseSchema, value: unknown): Awaitable<Score> {
  let result: { success: boolean; error?: unknown };
  try {
    result = schema.safeParse(value);
  } catch (error) {
    // zod's safeParse throws for schemas with async refinements; they need safeParseAsync.
    const safeParseAsync = (schema as { safeParseAsync?: unknown }).safeParseAsync;
    if (typeof safeParseAsync !== "function") throw error;
    return andThen(
      (safeParseAsync as (value: unknown) => Promise<{ success: boolean; error?: unknown }>).call(
        schema,
        value,
      ),
      outcome,
    );
  }
  return outcome(result);
}

function outcome(result: { success: boolean; error?: unknown }): Score {
  return result.success
    ? { name: NAME, score: 1 }
    : invalid(`The output does not match the schema: ${issues(result.error)}`);
}

// zod's issues as "path: message" lines, at most three; anything else by its message.
function issues(error: unknown): string {
  const list = (error as { issues?: unknown } | undefined)?.issues;
  if (Array.isArray(list) && list.length > 0) {
    const shown = list.slice(0, 3).map((issue: { path?: unknown; message?: unknown }) => {
      const path = Array.isArray(issue.path) && issue.path.length > 0 ? issue.path.join(".") : "(root)";
      return `${path}: ${String(issue.message)}`;
    });
    const more = list.length > 3 ? ` (and ${list.length - 3} more)` : "";
    return `${shown.join("; ")}${more}.`;
  }
  return error instanceof Error ? error.message : "invalid.";
}
