import type { ErrorObject, ValidateFunction } from "ajv";
import { Ajv } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import formats from "ajv-formats";

/**
 * JSON Schemas checked with Ajv, the validator autoevals' ValidJSON uses too, so that a schema scores as it would
 * there. (zod's fromJSONSchema, used before, dropped keywords it cannot express, such as `required` naming a key
 * missing from `properties` or `minItems` without `items`, and passed values that break them.) This module is
 * imported on first use: evalrun's start does not pay for Ajv.
 *
 * The draft follows `$schema`: 2020-12 and 2019-09 by name, anything else as draft-07 (which reads draft-06 too).
 * Not strict: keywords Ajv does not know (`example`, vendor extensions) are ignored, as validators commonly do.
 * `format` is checked (`email`, `date-time`, `uri`, `uuid`... through ajv-formats): structured-output schemas use it
 * for most of what they require. A format no one defines is ignored, silently (Ajv would print a warning per
 * compile on the user's console).
 */
type Validator = InstanceType<typeof Ajv>;
const DRAFTS = { "2020-12": Ajv2020, "2019-09": Ajv2019, "draft-07": Ajv };
const made = new Map<keyof typeof DRAFTS, Validator>();

function validatorFor(schema: object | boolean): Validator {
  const declared = typeof schema === "object" ? (schema as { $schema?: unknown }).$schema : undefined;
  const draft =
    typeof declared === "string" && declared.includes("2020-12")
      ? "2020-12"
      : typeof declared === "string" && declared.includes("2019-09")
        ? "2019-09"
        : "draft-07";
  let found = made.get(draft);
  if (found === undefined) {
    found = new DRAFTS[draft]({ strict: false, allErrors: true, logger: false }) as Validator;
    // A CommonJS module: its function is the default export under Node, `.default` under TypeScript's NodeNext view.
    (formats as unknown as { default: (ajv: Validator) => void }).default(found);
    made.set(draft, found);
  }
  return found;
}

/** undefined when the value satisfies the schema; else why not (up to three issues, as `path: message`). */
export type SchemaCheck = (value: unknown) => string | undefined;

/** Compiles `schema`; throws (with Ajv's message) when it is not a usable JSON Schema. */
export function compileJsonSchema(schema: object | boolean): SchemaCheck {
  const validate: ValidateFunction = validatorFor(schema).compile(schema);
  return (value) => (validate(value) ? undefined : describe(validate.errors ?? []));
}

// Ajv's paths are JSON Pointers ("/items/0"); shown dotted ("items.0"), as zod schemas' issues are.
const dotted = (pointer: string) =>
  pointer === ""
    ? "(root)"
    : pointer
        .slice(1)
        .split("/")
        .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"))
        .join(".");

function describe(errors: ErrorObject[]): string {
  const shown = errors.slice(0, 3).map((e) => `${dotted(e.instancePath)}: ${e.message}`);
  const more = errors.length > 3 ? ` (and ${errors.length - 3} more)` : "";
  return `${shown.join("; ")}${more}.`;
}
