// Demonstrates: an async task that waits like a network call and honours `hooks.signal`, rows produced by an
// async generator, `trialCount` with `hooks.trialIndex`, `hooks.meta()` to record per-row facts, and scorers
// that return `null` ("not scored") for rows they do not apply to. Latency is derived from each input, so the
// scores and the summary are the same on every run.
//
//   npx evalrun examples/async-latency.eval.ts
//   npx evalrun examples/async-latency.eval.ts --filter metadata.kind=convert --trials 1
import { Eval, type EvalCase, type ScorerArgs } from "evalrun";

type Kind = "arithmetic" | "convert" | "capital";

interface Question {
  kind: Kind;
  text: string;
}

interface Answer {
  text: string;
  /** Set when the answer is a number, so it can be compared with a tolerance. */
  value?: number;
}

interface QuestionMeta {
  kind: Kind;
  source: string;
  latencyMs?: number;
  trial?: number;
}

/** FNV-1a: a small, stable string hash, so "random" latencies are the same on every run. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A "random" but reproducible 5-40 ms per (input, trial). */
function latencyFor(question: Question, trial: number): number {
  return 5 + (hash(`${question.text}#${trial}`) % 36);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as the row times out or the run stops. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

const CAPITALS: Record<string, string> = {
  Australia: "Canberra",
  Canada: "Ottawa",
  Brazil: "Brasília",
  Nigeria: "Abuja",
  Turkey: "Ankara",
  Switzerland: "Bern",
};

const KM_PER_MILE = 1.609344;

/**
 * A stand-in for a model behind an API: it waits 5-40 ms, and it is sometimes wrong. Which tries go wrong is
 * decided by a hash of (question, attempt), standing in for sampling: different per trial, same every run.
 */
async function fakeModel(question: Question, attempt: number, signal: AbortSignal): Promise<Answer> {
  await sleep(latencyFor(question, attempt), signal);
  const sloppy = hash(`${question.text}|sample-${attempt}`) % 4 === 0;
  switch (question.kind) {
    case "arithmetic": {
      const [, a, op, b] = /(\d+) ([+*-]) (\d+)/.exec(question.text) ?? [];
      const x = Number(a);
      const y = Number(b);
      const exact = op === "+" ? x + y : op === "-" ? x - y : x * y;
      const value = sloppy && op === "*" ? exact - 10 : exact; // a slipped digit
      return { text: String(value), value };
    }
    case "convert": {
      const miles = Number(/([\d.]+) miles/.exec(question.text)?.[1]);
      const value = Number((miles * KM_PER_MILE).toFixed(sloppy ? 0 : 1)); // rounds too early
      return { text: `${value} km`, value };
    }
    case "capital": {
      const country = Object.keys(CAPITALS).find((name) => question.text.includes(name)) ?? "";
      if (country === "Australia") return { text: "Sydney" }; // confidently wrong, every time
      if (country === "Turkey" && sloppy) return { text: "Istanbul" };
      return { text: CAPITALS[country] ?? "I don't know" };
    }
  }
}

type Row = [kind: Kind, text: string, expected: string, value?: number];

/** Simulates a paginated source: each page arrives after a short await, rows are yielded one at a time. */
async function* rows(): AsyncGenerator<EvalCase<Question, Answer, QuestionMeta>> {
  const pages: Row[][] = [
    [
      ["arithmetic", "What is 17 + 25?", "42", 42],
      ["arithmetic", "What is 144 - 89?", "55", 55],
      ["arithmetic", "What is 12 * 12?", "144", 144],
      ["arithmetic", "What is 305 + 4096?", "4401", 4401],
      ["arithmetic", "What is 81 * 7?", "567", 567],
    ],
    [
      ["convert", "How many km is 26.2 miles?", "42.2 km", 42.2],
      ["convert", "How many km is 3.1 miles?", "5 km", 5],
      ["convert", "How many km is 100 miles?", "160.9 km", 160.9],
      ["convert", "How many km is 0.75 miles?", "1.2 km", 1.2],
      ["convert", "How many km is 13.1 miles?", "21.1 km", 21.1],
    ],
    [
      ["capital", "What is the capital of Australia?", "Canberra"],
      ["capital", "What is the capital of Canada?", "Ottawa"],
      ["capital", "What is the capital of Brazil?", "Brasília"],
      ["capital", "What is the capital of Nigeria?", "Abuja"],
      ["capital", "What is the capital of Turkey?", "Ankara"],
      ["capital", "What is the capital of Switzerland?", "Bern"],
    ],
  ];
  for (const [pageIndex, page] of pages.entries()) {
    await new Promise((resolve) => setTimeout(resolve, 1)); // "fetch" the next page
    for (const [kind, text, expected, value] of page) {
      yield {
        id: `${kind}-${hash(text).toString(16)}`,
        input: { kind, text },
        expected: value === undefined ? { text: expected } : { text: expected, value },
        metadata: { kind, source: `page-${pageIndex + 1}` },
      };
    }
  }
}

type LatencyArgs = ScorerArgs<Question, Answer, Answer, QuestionMeta>;

function ExactAnswer({ output, expected }: LatencyArgs): boolean {
  return output.text === expected?.text;
}

/** Numeric answers only: full marks within 0.5%, sliding to 0 at 5% off. Capitals are not scored. */
function NumericTolerance({ output, expected }: LatencyArgs): number | null {
  if (expected?.value === undefined || output.value === undefined) return null;
  const relative = Math.abs(output.value - expected.value) / Math.max(Math.abs(expected.value), 1e-9);
  if (relative <= 0.005) return 1;
  return Math.max(0, 1 - relative / 0.05);
}

/** Reads what the task recorded with hooks.meta(): did this trial answer within a 30 ms budget? */
function WithinBudget({ metadata }: LatencyArgs): boolean | null {
  return metadata.latencyMs === undefined ? null : metadata.latencyMs <= 30;
}

Eval("async-latency", {
  description: "An async task with simulated network latency, run three times per row.",
  data: rows,
  task: async (question, hooks) => {
    const answer = await fakeModel(question, hooks.trialIndex, hooks.signal);
    // Kept on the row's result, and passed to the scorers as `metadata`.
    hooks.meta({ latencyMs: latencyFor(question, hooks.trialIndex), trial: hooks.trialIndex });
    return answer;
  },
  scores: [ExactAnswer, NumericTolerance, WithinBudget],
  trialCount: 3,
  maxConcurrency: 8,
  timeout: 2000,
});
