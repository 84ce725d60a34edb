// Watch-mode latency: from writing a module an eval imports to the first row of that eval's re-run starting.
// Spawns the built CLI (`npm run build` first) with --watch on a small project in a temp directory (three eval
// files, the store on, as a user's project), saves the imported module SAVES times, waiting for each round to
// finish, and prints the median. The row reports when it starts on stdout, stamped with the same clock as the
// write (performance.timeOrigin + performance.now(), epoch milliseconds).
//
//   node bench/watch-latency.mjs [SAVES]      (default 25; the goal is a median under 150 ms)
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = path.join(ROOT, "dist", "bin.js");
const SAVES = Number(process.argv[2] ?? 25);
const GOAL_MS = 150;
const IDLE = "Waiting for changes…";

const now = () => performance.timeOrigin + performance.now();

const prompt = (n) =>
  `// The prompt under tuning (save ${n}).\nexport const SYSTEM = "Route the message to one intent (${n}).";\n` +
  `export function route(message: string): string {\n  const m = message.toLowerCase();\n` +
  `  if (m.includes("refund")) return "refund";\n  if (m.includes("charge")) return "billing";\n  return "other";\n}\n`;

const files = {
  "package.json": JSON.stringify({ name: "latency", type: "module" }),
  "prompts/router.ts": prompt(0),
  "evals/router.eval.ts": `import { Eval } from "evalrun";
import { route } from "../prompts/router.js";

let first = true;
const messages = ["I want a refund", "You charged me twice", "Where is my parcel?", "Refund please", "Hello"];

Eval("router", {
  data: Array.from({ length: 20 }, (_, i) => ({
    input: messages[i % messages.length] + " #" + i,
    expected: i % 5 === 0 || i % 5 === 3 ? "refund" : i % 5 === 1 ? "billing" : "other",
    metadata: { i },
  })),
  task: async (input: string) => {
    if (first) {
      first = false;
      console.log("FIRST-ROW " + (performance.timeOrigin + performance.now()));
    }
    return route(input);
  },
  scores: [
    function Exact({ output, expected }) {
      return output === expected;
    },
    function NotOther({ output }) {
      return output !== "other";
    },
  ],
});
`,
  "evals/length.eval.ts": `import { Eval } from "evalrun";
Eval("length", {
  data: ["a", "bb", "ccc"].map((input) => ({ input, expected: input.length })),
  task: (input: string) => input.length,
  scores: [function Same({ output, expected }) { return output === expected; }],
});
`,
  "evals/echo.eval.ts": `import { Eval } from "evalrun";
Eval("echo", {
  data: [{ input: "x", expected: "x" }],
  task: (input: string) => input,
  scores: [function Same({ output, expected }) { return output === expected; }],
});
`,
};

const dir = mkdtempSync(path.join(os.tmpdir(), "evalrun-watch-bench-"));
for (const [name, content] of Object.entries(files)) {
  mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
  writeFileSync(path.join(dir, name), content);
}

const child = spawn(process.execPath, [BIN, "--watch"], {
  cwd: dir,
  env: { ...process.env, NO_COLOR: "1" },
  stdio: ["ignore", "pipe", "pipe"],
});
let output = "";
const waiters = new Set();
for (const stream of [child.stdout, child.stderr]) {
  stream.on("data", (chunk) => {
    output += chunk;
    for (const check of waiters) check();
  });
}

function waitFor(pattern, since, timeoutMs = 20_000) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = pattern.exec(output.slice(since));
      if (!match) return;
      waiters.delete(check);
      clearTimeout(timer);
      resolve(match);
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`timed out waiting for ${pattern}; output:\n${output}`));
    }, timeoutMs);
    waiters.add(check);
    check();
  });
}

const idle = new RegExp(IDLE);
const latencies = [];
try {
  await waitFor(idle, 0);
  for (let i = 1; i <= SAVES; i++) {
    const since = output.length;
    const written = now();
    writeFileSync(path.join(dir, "prompts/router.ts"), prompt(i));
    const [, stamp] = await waitFor(/FIRST-ROW ([\d.]+)/, since);
    latencies.push(Number(stamp) - written);
    await waitFor(idle, since);
    // A pause between saves, as between a user's: the watcher's debounce must not merge two of them.
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
} finally {
  child.kill("SIGINT");
  await new Promise((resolve) => child.on("close", resolve));
  rmSync(dir, { recursive: true, force: true });
}

const sorted = [...latencies].sort((a, b) => a - b);
const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const median = at(0.5);
const ms = (v) => `${v.toFixed(1)} ms`;
console.log(
  `watch latency (write -> first row of the re-run), ${sorted.length} saves: median ${ms(median)} · min ${ms(sorted[0])} · p90 ${ms(at(0.9))} · max ${ms(sorted[sorted.length - 1])}`,
);
console.log(`goal: median < ${GOAL_MS} ms ${median < GOAL_MS ? "✓" : "✗"}`);
