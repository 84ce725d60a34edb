import { describeValue, EvalrunError } from "../../define/errors.js";
import { closestName } from "../../util/suggest.js";

/** How one option is checked, and how its error explains it. */
export interface OptionKind {
  /** What the option must be, as a phrase ("a boolean"). */
  expects: string;
  /** A valid value as source text, for the hint. */
  example: string;
  /** What is wrong with the value ("must be a boolean"), or undefined when it is fine. */
  problem(value: unknown): string | undefined;
}

export type OptionKinds<Options> = { readonly [K in keyof Options]-?: OptionKind };

function kind(expects: string, example: string, accepts: (value: unknown) => boolean): OptionKind {
  return { expects, example, problem: (value) => (accepts(value) ? undefined : `must be ${expects}`) };
}

export const booleanOption = kind("a boolean", "true", (value) => typeof value === "boolean");

export const scorerOption = (example: string): OptionKind =>
  kind("a scorer function ({ output, expected }) => score", example, (value) => typeof value === "function");

/** The keys of a scorer's arguments; `.partial()` may bind them too, as autoevals allows. */
export const ARG_KEYS: ReadonlySet<string> = new Set([
  "input",
  "output",
  "expected",
  "metadata",
  "tags",
  "trialIndex",
  "signal",
]);

function optionError(
  scorer: string,
  key: string,
  value: unknown,
  kind: OptionKind,
  how: string,
): EvalrunError {
  const problem = kind.problem(value) ?? `must be ${kind.expects}`;
  return new EvalrunError(
    "BAD_SCORER_OPTIONS",
    `Option "${key}" of ${scorer} ${problem}; ${how} ${describeValue(value)}.`,
    `For example: ${scorer}.partial({ ${key}: ${kind.example} }).`,
  );
}

/** Checks an option given in a call's arguments (options bound with `.partial()` were checked then). */
export function checkCallOption(scorer: string, key: string, value: unknown, kind: OptionKind): void {
  if (kind.problem(value) !== undefined) throw optionError(scorer, key, value, kind, "the call passed");
}

/** Checks what `.partial()` was given: an object of known options, each of the right kind. */
export function checkPartialOptions(
  scorer: string,
  kinds: Record<string, OptionKind>,
  options: unknown,
): void {
  const names = Object.keys(kinds);
  const quoted = names.map((name) => `"${name}"`);
  const takes =
    quoted.length === 0
      ? `${scorer} takes no options`
      : quoted.length === 1
        ? `${scorer}'s only option is ${quoted[0]}`
        : `${scorer}'s options are ${quoted.slice(0, -1).join(", ")} and ${quoted.at(-1)}`;
  const first = names[0];
  const example = first === undefined ? "" : `${scorer}.partial({ ${first}: ${kinds[first]?.example} })`;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new EvalrunError(
      "BAD_SCORER_OPTIONS",
      `${scorer}.partial() takes an object of options, not ${describeValue(options)}; ${takes}.`,
      first === undefined ? `Put ${scorer} itself in \`scores\`.` : `For example: ${example}.`,
    );
  }
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || ARG_KEYS.has(key)) continue;
    const found = kinds[key];
    if (found === undefined) {
      const near = closestName(key, names);
      throw new EvalrunError(
        "BAD_SCORER_OPTIONS",
        `${scorer}.partial() was given an unknown option "${key}"${near ? ` (did you mean "${near}"?)` : ""}; ${takes}.`,
        first === undefined
          ? `Put ${scorer} itself in \`scores\`; it compares each row's output with its expected value.`
          : `Correct or remove "${key}" (an unknown option would otherwise be silently ignored), e.g. ${example}.`,
      );
    }
    if (found.problem(value) !== undefined) {
      throw optionError(scorer, key, value, found, `${scorer}.partial() was given`);
    }
  }
}
