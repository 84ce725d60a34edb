// Type-checked by `npm run typecheck` (never run): evalrun-style code, as the README writes it, that must keep
// type-checking as the types follow Braintrust's.
import {
  Eval,
  type EvalCase,
  type EvalHooks,
  ExactMatch,
  Factuality,
  Levenshtein,
  loadCsv,
  loadJsonl,
  type Scorer,
  type ScorerArgs,
} from "evalrun";

// Rows from a loader are loosely typed in every field, metadata included.
Eval("loaded", {
  data: loadJsonl("data/rows.jsonl"),
  task: async (input, { metadata }) => `${input.question} (${metadata.lang.toUpperCase()})`,
  scores: [({ metadata }) => (metadata.tags.includes("hard") ? 0.5 : 1), Levenshtein, Factuality],
});

// A CSV with input and expected columns is rows as it is, as loosely typed as a JSONL's.
Eval("csv", {
  data: loadCsv("data/rows.csv"),
  task: (input: string) => input.toUpperCase(),
  scores: [ExactMatch],
});

// Generic helpers over the metadata type.
export function byLang<M extends { lang: string }>(args: ScorerArgs<string, string, string, M>) {
  return args.metadata.lang.length > 0 ? 1 : 0;
}
export function langOf<M extends { lang: string }>(hooks: EvalHooks<string, M>): string {
  return hooks.metadata.lang;
}
export function metaOf<M>(hooks: EvalHooks<string, M>): M {
  return hooks.metadata;
}
export function langScorer<M extends { lang: string }>(): Scorer<string, string, string, M> {
  return ({ metadata }) => (metadata.lang.toUpperCase() === "EN" ? 1 : 0);
}
export function suite<M extends { lang: string }>(rows: EvalCase<string, string, M>[]) {
  return Eval("suite", {
    data: rows,
    task: async (input, { metadata }) => input + metadata.lang.trim(),
    scores: [langScorer<M>(), ExactMatch.partial({})],
  });
}

// Some rows without `expected`; a scorer that checks for it.
Eval("mixed", {
  data: [
    { input: "a", expected: "A", metadata: { lang: "en" } },
    { input: "b", metadata: { lang: "fr" } },
  ],
  task: (input, hooks) => {
    // @ts-expect-error a typo in a typed metadata field is caught
    const typo = hooks.metadata.lnag;
    return `${input.toUpperCase()}${typo}`;
  },
  scores: [
    ({ output, expected }: { output: string; expected?: string }) =>
      expected === undefined ? null : output === expected,
  ],
});

// Several named scores, booleans and nulls among them (README's scorer table).
const LABELS = ["billing", "account"];
Eval("per-label", {
  data: [{ input: "refund please", expected: "billing" }],
  task: () => "billing",
  scores: [
    ({ output, expected }) =>
      LABELS.flatMap((l) => [
        { name: `recall:${l}`, score: expected === l ? output === l : null },
        { name: `precision:${l}`, score: output === l ? expected === l : null },
      ]),
    ({ output }) => ({ score: output.length > 0 }),
    // @ts-expect-error several scores need names (each unnamed one would take the scorer's)
    () => [{ score: 1 }, { score: 0 }],
  ],
});
