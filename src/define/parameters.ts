import { EvalrunError, errorLine } from "./errors.js";
import { promptParameter } from "./prompt-parameter.js";

const values = new WeakMap<object, Record<string, unknown>>();

/**
 * An evaluator's parameter values (what `hooks.parameters` holds), worked out once: a zod schema's output for no
 * value given (its default), a `{ default }` object's default, a prompt parameter ready to build. A parameter with
 * no value (a schema without a default, or whose default it refuses; a model or prompt parameter without one) is
 * the eval's error, as in Braintrust: run anyway, the task saw `undefined` where its type said a string.
 */
export function parameterValues(evaluator: { parameters?: unknown }, label: string): Record<string, unknown> {
  let found = values.get(evaluator);
  if (found === undefined) {
    found = {};
    const declared = evaluator.parameters;
    if (typeof declared === "object" && declared !== null) {
      for (const [name, spec] of Object.entries(declared)) found[name] = parameterValue(name, spec, label);
    }
    values.set(evaluator, found);
  }
  return found;
}

function parameterValue(name: string, spec: unknown, label: string): unknown {
  if (typeof spec !== "object" || spec === null) return spec;
  const type = (spec as { type?: unknown }).type;
  if (type === "prompt" || type === "model") {
    if ((spec as { default?: unknown }).default === undefined) {
      throw new EvalrunError(
        "BAD_EVALUATOR",
        `${label}: the ${type} parameter "${name}" has no default, so its tasks would get none.`,
        type === "model"
          ? `Give it one: ${name}: { type: "model", default: "gpt-4o-mini" }.`
          : `Give it one: ${name}: { type: "prompt", default: { model: "...", messages: [...] } }.`,
      );
    }
    return type === "prompt"
      ? promptParameter(name, spec as Record<string, unknown>)
      : (spec as { default: unknown }).default;
  }
  const safeParse = (spec as { safeParse?: unknown }).safeParse;
  if (typeof safeParse === "function") {
    let parsed: { success: boolean; data?: unknown; error?: { issues?: Array<{ message?: unknown }> } };
    try {
      parsed = (safeParse as (v: unknown) => typeof parsed).call(spec, undefined);
    } catch (error) {
      throw new EvalrunError(
        "BAD_EVALUATOR",
        `${label}: the parameter "${name}"'s schema threw ${errorLine(error)} when asked for its default.`,
        "Fix the schema; evalrun gives each parameter its schema's default.",
      );
    }
    if (!parsed.success) {
      const why = (parsed.error?.issues ?? []).map((i) => String(i.message)).join("; ") || "no value";
      throw new EvalrunError(
        "BAD_EVALUATOR",
        `${label}: the parameter "${name}" has no valid value (${why}): evalrun gives each parameter its schema's default, and this schema has none it accepts.`,
        `Give it a default the schema accepts, e.g. ${name}: z.string().default("gpt-4o-mini").`,
      );
    }
    return parsed.data;
  }
  return "default" in spec ? (spec as { default: unknown }).default : spec;
}
