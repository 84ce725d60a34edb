// The benchmark workloads: each as an evalrun eval file and as a floor (the same work with no framework).
const W2_DATA = `Array.from({ length: 10_000 }, (_, i) => { const input = \`row-\${i}-lorem ipsum\`; return { input, expected: input.toUpperCase() }; })`;
const W4_GEN = `async function* rows() {
  const BASE = "abcdefghijklmnopqrstuvwxyz0123456789".repeat(32);
  for (let i = 0; i < 100_000; i++) { const s = (String(i).padStart(8, "0") + BASE).slice(0, 1024); yield { input: s, expected: s }; }
}`;
const EXACT = `function exact({ output, expected }: { output: string; expected?: string }) { return output === expected ? 1 : 0; }`;

// A target in seconds was set on the issue's machine, where the issue's own floor script (../shared/peers/baseline/
// baseline.mjs, `issueScript`) took `issueFloor` (W1 0.11 s, W2 0.16 s, W4 0.35 s). On a faster machine the seconds
// are met for free, so run.mjs times that script in the same run and scales each target by how much faster it runs
// here (W2: 0.45 s x 0.074 / 0.16). Without the script, it falls back to the ratio to this bench's own floor that
// the target implies (W2: 0.45 / 0.16 = 2.81x), which is stricter where the floors differ (W4's here only drains
// the generator; the issue's script also keeps every row).
export const workloads = {
  w1: {
    title: "W1 start-up: 1 row, identity task, 1 scorer",
    evalFile: `import { Eval } from "evalrun";
${EXACT}
Eval("bench-w1", { data: [{ input: "hello", expected: "hello" }], task: (x: string) => x, scores: [exact] });`,
    floor: "",
    floorLabel: "node -e ''",
    target: { seconds: 0.3, issueFloor: 0.11, issueScript: "w1", label: "< 0.30 s" },
  },
  // W1 where users run it: in a git repository (evalrun asks git for the commit and branch) beside the
  // evalrun.config.ts that `evalrun init` writes. The issue's W1 target, shown for what a project's start-up gets.
  w1project: {
    title: "W1 in a project: git repository, `evalrun init`'s config",
    evalFile: null, // W1's
    floor: null, // W1's
    floorLabel: "node -e ''",
    target: { seconds: 0.3, issueFloor: 0.11, issueScript: "w1", label: "< 0.30 s" },
    like: "w1",
    project: true,
  },
  w2: {
    title: "W2 overhead: 10,000 rows, sync task, 2 scorers",
    evalFile: `import { Eval } from "evalrun";
${EXACT}
function lengthRatio({ output, expected }: { output: string; expected?: string }) {
  const a = output.length, b = (expected ?? "").length; return Math.max(a, b) === 0 ? 1 : Math.min(a, b) / Math.max(a, b);
}
Eval("bench-w2", { data: () => ${W2_DATA}, task: (input: string) => input.toUpperCase(), scores: [exact, lengthRatio] });`,
    floor: `const data = ${W2_DATA}; let s = 0;
for (const d of data) { const o = d.input.toUpperCase(); s += o === d.expected ? 1 : 0; s += Math.min(o.length, d.expected.length) / Math.max(o.length, d.expected.length); }
if (s < 0) console.log(s);`,
    floorLabel: "plain loop",
    target: { seconds: 0.45, issueFloor: 0.16, issueScript: "w2", label: "< 0.45 s" },
  },
  w3: {
    title: "W3 I/O-bound: 1,000 rows x 20 ms sleep, maxConcurrency 50",
    evalFile: `import { Eval } from "evalrun";
${EXACT}
Eval("bench-w3", { data: () => Array.from({ length: 1000 }, (_, i) => ({ input: \`row-\${i}\`, expected: \`row-\${i}\` })),
  task: async (input: string) => { await new Promise((r) => setTimeout(r, 20)); return input; },
  scores: [exact], maxConcurrency: 50 });`,
    floor: null, // ideal: 1,000 x 20 ms / 50 = 0.4 s, plus W1's start-up
    floorLabel: "ideal 0.4 s + W1",
    target: { ratio: 1.1, label: "within 10% of ideal" },
  },
  w4: {
    title: "W4 memory: 100,000 rows x 1 KB from an async generator",
    evalFile: `import { Eval } from "evalrun";
${W4_GEN}
${EXACT}
Eval("bench-w4", { data: rows, task: (x: string) => x, scores: [exact] });`,
    floor: `${W4_GEN}\nlet n = 0; for await (const r of rows()) { if (r.input === r.expected) n++; } if (n < 0) console.log(n);`,
    floorLabel: "generator drained alone",
    target: { seconds: 1.5, issueFloor: 0.35, issueScript: "w4", rssMiB: 200, label: "< 1.5 s, < 200 MiB" },
  },
  // W4's eval run into an empty store, as a user's first run of a dataset is: every input is new and written (100
  // MB), where W4's re-runs find their inputs stored already. The issue's W4 target, shown for what a first run gets.
  w4first: {
    title: "W4, first run: same, into an empty store",
    evalFile: null, // W4's
    floor: null, // W4's
    floorLabel: "generator drained alone",
    target: { seconds: 1.5, issueFloor: 0.35, issueScript: "w4", rssMiB: 200, label: "< 1.5 s, < 200 MiB" },
    like: "w4",
    emptyStore: true,
  },
  w5: {
    title: "W5 CPU-bound: 2,000 rows, scorer ~5 ms of CPU",
    evalFile: `import { Eval } from "evalrun";
function spin(ms: number): number { const until = performance.now() + ms; let x = 0; while (performance.now() < until) x++; return x; }
function heavy({ output, expected }: { output: string; expected?: string }) { spin(5); return output === expected ? 1 : 0; }
Eval("bench-w5", { data: () => Array.from({ length: 2000 }, (_, i) => ({ input: \`row-\${i}\`, expected: \`row-\${i}\` })),
  task: (input: string) => input, scores: [heavy] });`,
    // The floor of W5 is evalrun itself in the main thread; the figure is the speed-up of --workers 2.
    floor: null,
    floorLabel: "evalrun --workers 0",
    target: { speedup: 1.7, label: ">= 1.7x faster" },
  },
};
