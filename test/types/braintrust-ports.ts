// Type-checked by `npm run typecheck` (never run): eval code written for Braintrust's `Eval()` and autoevals, as
// Braintrust's types accept it, with only the import changed to evalrun. Each `@ts-expect-error` is a mistake
// Braintrust's types catch, which evalrun's must catch too (tsc fails if the line compiles).
import {
  type BaseMetadata,
  type DefaultMetadataType,
  Eval,
  type EvalCase,
  type EvalClassifier,
  type EvalHooks,
  type EvalParameters,
  type EvalResult,
  type EvalScorer,
  type EvalScorerArgs,
  type EvalTask,
  Levenshtein,
  type LLMArgs,
  logError,
  type MetricSummary,
  makePartial,
  Reporter,
  type ReporterBody,
  type Score,
  type ScorerWithPartial,
  type StartSpanArgs,
  traceable,
  updateSpan,
  withCurrent,
} from "evalrun";
import { z } from "zod";

// Rows that all give `expected`: scorers use it as the rows type it, as Braintrust types it.
const exact = ({ output, expected }: { output: string; expected: string }) =>
  output.trim() === expected.trim() ? 1 : 0;
function Recall(args: EvalScorerArgs<string, string[], string[]>) {
  return args.expected.filter((e) => args.output.includes(e)).length / args.expected.length;
}
Eval("expected-required", {
  data: [{ input: "Capital of France?", expected: "Paris" }],
  task: async (input) => `${input} Paris`,
  scores: [exact, ({ output, expected }) => (output.includes(expected) ? 1 : 0), Levenshtein],
});
Eval("recall", {
  data: [{ input: "fruits", expected: ["apple"] }],
  task: () => ["apple", "pear"],
  scores: [Recall],
});

// hooks.expected as the rows type it, and a task annotated separately with Braintrust's three type arguments.
async function annotated(input: string, hooks: EvalHooks<number, { model: string }, EvalParameters>) {
  const wanted: number = hooks.expected;
  hooks.metadata.model = "small";
  return input.length === wanted ? "ok" : "no";
}
const task: EvalTask<string, string, number, { model: string }, EvalParameters> = annotated;
Eval("hooks", { data: [{ input: "abc", expected: 3, metadata: { model: "m" } }], task, scores: [] });

// parameters: each zod schema's output type, each { default }'s type.
Eval("parameters", {
  data: [{ input: "q" }],
  parameters: {
    model: z.string().default("gpt-4o-mini"),
    temperature: z.number().default(0),
    retries: { default: 2 },
  },
  task: async (input, { parameters }) => {
    const model: string = parameters.model;
    const temperature: number = parameters.temperature;
    const retries: number = parameters.retries;
    // @ts-expect-error a misspelled parameter is caught, as Braintrust's InferParameters catches it
    const typo = parameters.modle;
    return `${input} ${model} ${temperature} ${retries} ${typo}`;
  },
  scores: [],
});

// Braintrust's "no metadata" type: hooks and scorers still get an object of any fields.
const noMeta: EvalCase<string, string, DefaultMetadataType>[] = [{ input: "a", expected: "a" }];
function MetaSeen(args: EvalScorerArgs<string, string, string, void>): Score {
  return { name: "MetaSeen", score: args.metadata.seen === true ? 1 : 0 };
}
Eval<string, string, string, void>("void-metadata", {
  data: noMeta,
  task: (input, hooks) => {
    hooks.metadata.seen = true;
    return input;
  },
  scores: [MetaSeen],
});
const base: BaseMetadata = { a: 1 };
// Braintrust's six type arguments: the reporter's report type, then the parameters.
Eval<string, string, string, void, boolean, { model: z.ZodDefault<z.ZodString> }>("typed-parameters", {
  data: [{ input: "a" }],
  parameters: { model: z.string().default("m") },
  task: (input, hooks) => `${hooks.parameters.model}:${input}`,
  scores: [],
});

// A reporter's parameters are typed from its body, as Braintrust's ReporterBody types them.
const reporter = Reporter("counts", {
  reportEval: async (evaluator, result, { verbose }) => {
    if (verbose) console.error(evaluator.evalName, result.summary.experimentName);
    return result.results.filter((r) => r.error === undefined).length;
  },
  reportRun: (reports) => reports.every((n) => n > 0),
});
const body: ReporterBody<number> = reporter;
// @ts-expect-error a misspelled reportEval is caught (it is missing)
Reporter("typo", { reportEvals: () => 1, reportRun: () => true });
// A body without reportRun, with keys of its own, as evalrun always accepted; one declared as ReporterBody.
Reporter("partial", { reportEval: () => 1, description: "counts" });
const declared: ReporterBody<boolean> = { reportEval: () => true, reportRun: (all) => all.every(Boolean) };
Reporter("declared", declared);

// What `await Eval()` gives a file run by itself: results typed by the evaluator.
export async function direct() {
  const result = await Eval("direct", {
    data: [{ input: 1, expected: 2 }],
    task: (n) => `${n + 1}`,
    scores: [],
  });
  const outputs: string[] = result.results.map((r) => r.output.toUpperCase());
  const url: string | undefined = result.summary.experimentUrl;
  const row: EvalResult<number, string, number> | undefined = result.results[0];
  return { outputs, url, row };
}

// autoevals' helpers and Braintrust's tracing pass-throughs.
const lengthOk: ScorerWithPartial<string, { max: number }> = makePartial(
  ({ output, max }) => ({ name: "LengthOk", score: output.length <= max ? 1 : 0 }),
  "LengthOk",
);
const short = lengthOk.partial({ max: 10 });
const judgeOptions: LLMArgs = { model: "gpt-4o-mini", temperature: 0 };
const classifier: EvalClassifier<string, string, string> = ({ output }) => ({ name: "kind", id: output });
const scorer: EvalScorer<string, string, string> = ({ output, expected }) => (output === expected ? 1 : 0);
const traced = traceable(async (q: string) => q.length);
withCurrent({ log: () => undefined } as never, (span) => logError(span, new Error("x")));
updateSpan({ exported: "", output: 1 });
const spanArgs: StartSpanArgs = { name: "retrieve" };
const metric: MetricSummary = { name: "duration", metric: 1, unit: "s" };

Eval("wrong-types", {
  data: [{ input: "a", expected: "a" }],
  // @ts-expect-error a task returning numbers, scored by a scorer of strings (TypeScript names the task)
  task: (input) => input.length,
  scores: [exact],
});
// @ts-expect-error a misspelled evaluator key
Eval("typo", { data: [{ input: 1 }], task: (n) => n, scores: [], maxConcurency: 2 });

export const used = [base, body, short, judgeOptions, classifier, scorer, traced, spanArgs, metric];
