// Speed of the Levenshtein scorer on two 10 KB strings (the issue asks for well under 10 ms), beside floors
// measured in the same run, since absolute times move with the machine and its load:
//   - a plain loop over both strings (reading every code unit once: what any method must do at least);
//   - a plain JavaScript loop over ⌈m/32⌉·n 32-bit words (one typed-array read and write each: the work a bit-parallel method
//     cannot go below, as it touches each 32-row block of each column);
//   - the textbook O(m·n) dynamic programme, once, for scale.
// Median of N runs after a warm-up. Build first (npm run build).
//
//   node bench/scorers.mjs [runs=25]
import { Levenshtein } from "../dist/index.js";
import { random } from "./random.mjs";

const runs = Number(process.argv[2] ?? 25);
const SIZE = 10_240;
const ALPHABET = "abcdefghijklmnopqrstuvwxyz ";

const next = random(1);
const text = (n) => Array.from({ length: n }, () => ALPHABET[Math.floor(next() * ALPHABET.length)]).join("");
const a = text(SIZE);
const b = text(SIZE);
// An edited copy of `a` (about 5% of positions substituted, inserted or deleted): the usual case in an eval.
const edited = [...a];
for (let e = 0; e < SIZE / 20; e++) {
  const at = Math.floor(next() * edited.length);
  const op = next();
  if (op < 0.33) edited.splice(at, 0, "#");
  else if (op < 0.66) edited.splice(at, 1);
  else edited[at] = "#";
}
const c = edited.join("");

let sink = 0;
const median = (values) => [...values].sort((x, y) => x - y)[Math.floor((values.length - 1) / 2)];
function time(fn, n = runs) {
  fn(); // warm-up: compiled before it is timed
  const samples = [];
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint();
    sink += fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return median(samples);
}

function scanStrings() {
  let h = 0;
  for (let i = 0; i < a.length; i++) h = (h + a.charCodeAt(i) * b.charCodeAt(i)) | 0;
  return h & 1;
}

const words = new Int32Array(Math.ceil(SIZE / 32));
function wordLoop() {
  let h = 0;
  for (let j = 0; j < b.length; j++) {
    const x = b.charCodeAt(j);
    for (let k = 0; k < words.length; k++) {
      const w = (words[k] + x) | 0;
      words[k] = w;
      h ^= w;
    }
  }
  return h & 1;
}

function naive() {
  let previous = new Int32Array(b.length + 1).map((_, j) => j);
  let current = new Int32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const sub = previous[j - 1] + (ca === b.charCodeAt(j - 1) ? 0 : 1);
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, sub);
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length] > 0 ? 1 : 0;
}

const random10k = time(() => Levenshtein({ output: a, expected: b }).score);
const edited10k = time(() => Levenshtein({ output: a, expected: c }).score);
const scan = time(scanStrings);
const floor = time(wordLoop);
const dp = time(naive, 1);

const ms = (value) => `${value.toFixed(value < 1 ? 3 : 2)} ms`;
console.log(
  `Levenshtein, two ${SIZE.toLocaleString("en")}-character strings, median of ${runs}, node ${process.version}\n`,
);
console.log("| what | time | vs word-loop floor |");
console.log("|---|---|---|");
console.log(
  `| Levenshtein, unrelated random strings | ${ms(random10k)} | ${(random10k / floor).toFixed(2)}x |`,
);
console.log(
  `| Levenshtein, a string and a 5%-edited copy | ${ms(edited10k)} | ${(edited10k / floor).toFixed(2)}x |`,
);
console.log(`| floor: plain loop over both strings | ${ms(scan)} | ${(scan / floor).toFixed(2)}x |`);
console.log(`| floor: plain loop over ⌈m/32⌉·n words | ${ms(floor)} | 1.00x |`);
console.log(`| naive O(m·n) DP, one run | ${ms(dp)} | ${(dp / floor).toFixed(0)}x |`);
if (sink < 0) console.log(sink); // keeps the results alive
