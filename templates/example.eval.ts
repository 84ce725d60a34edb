import { Eval, Levenshtein } from "evalrun";

// A starter eval: replace `answer` with a call to your model or your own code.
// Run it with `npx evalrun`; see the README for every option of Eval().

async function answer(question: string, signal: AbortSignal): Promise<string> {
  // e.g. return (await openai.chat.completions.create({ ... }, { signal })).choices[0].message.content
  signal.throwIfAborted();
  const capitals: Record<string, string> = { France: "Paris", Japan: "Tokyo", Kenya: "Nairobi" };
  const country = Object.keys(capitals).find((name) => question.includes(name));
  return country ? (capitals[country] ?? "I don't know") : "I don't know";
}

function exactMatch({ output, expected }: { output: string; expected?: string }) {
  return output === expected;
}

function mentionsAnswer({ output, expected }: { output: string; expected?: string }) {
  if (expected === undefined) return null; // not scored
  return output.toLowerCase().includes(expected.toLowerCase()) ? 1 : 0;
}

Eval("example", {
  data: [
    { input: "What is the capital of France?", expected: "Paris" },
    { input: "What is the capital of Japan?", expected: "Tokyo" },
    { input: "What is the capital of Kenya?", expected: "Nairobi", metadata: { region: "africa" } },
  ],
  task: async (input, { signal }) => answer(input, signal),
  // Your own scorers beside built-in ones (Levenshtein, Factuality, JSONDiff, ...: see the README).
  scores: [exactMatch, mentionsAnswer, Levenshtein],
  timeout: 10_000,
});
