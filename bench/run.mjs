// Prints speed and memory figures for the workloads in workloads.mjs, each beside a floor measured in the same
// run (whole processes, medians). usage: node bench/run.mjs [runs=5] [w1 w2 ...]
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { workloads } from "./workloads.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = path.join(root, "dist", "bin.js");
const probe = path.join(root, "bench", "rss-probe.cjs");
const args = process.argv.slice(2);
const runs = Number(args.find((a) => /^\d+$/.test(a)) ?? 5);
const chosen = args.filter((a) => /^w\d$/.test(a));
const names = chosen.length > 0 ? chosen : Object.keys(workloads);

const dir = mkdtempSync(path.join(os.tmpdir(), "evalrun-bench-"));
const rssFile = path.join(dir, "rss.txt");

function measure(argv, cwd) {
  writeFileSync(rssFile, "");
  const start = process.hrtime.bigint();
  const child = spawnSync(process.execPath, argv, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NODE_OPTIONS: `--require ${probe}`, EVALRUN_BENCH_RSS: rssFile, NO_COLOR: "1" },
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (child.status !== 0)
    throw new Error(`${argv.join(" ")} exited ${child.status}\n${child.stdout}\n${child.stderr}`);
  const rss = Math.max(...readFileSync(rssFile, "utf8").trim().split("\n").map(Number)) / 1024;
  return { seconds, rss };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

function repeat(argv, cwd) {
  measure(argv, cwd); // warm-up: file cache, compiled-bundle cache
  const samples = Array.from({ length: runs }, () => measure(argv, cwd));
  return { seconds: median(samples.map((s) => s.seconds)), rss: median(samples.map((s) => s.rss)) };
}

const rows = [];
let w1Seconds;
try {
  for (const name of names) {
    const w = workloads[name];
    const wdir = path.join(dir, name);
    mkdirSync(wdir, { recursive: true });
    writeFileSync(path.join(wdir, `${name}.eval.ts`), w.evalFile);
    const ours = repeat([bin, `${name}.eval.ts`, "--no-progress"], wdir);
    let floor;
    if (w.floor === null)
      floor = { seconds: 0.4 + (w1Seconds ?? repeat([bin, "--version"], wdir).seconds), rss: Number.NaN };
    else {
      writeFileSync(path.join(wdir, "floor.mjs"), w.floor);
      floor = repeat(["floor.mjs"], wdir);
    }
    if (name === "w1") w1Seconds = ours.seconds;
    rows.push({ name, title: w.title, ours, floor, floorLabel: w.floorLabel });
    process.stderr.write(`${name} done\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const fmt = (n, unit) => (Number.isFinite(n) ? `${n.toFixed(unit === "s" ? 3 : 0)} ${unit}` : "–");
console.log(
  `evalrun bench: ${runs} runs per figure (median), node ${process.version}, ${os.cpus().length} cores\n`,
);
console.log("| workload | evalrun | floor | ratio (time) | peak RSS evalrun / floor |");
console.log("|---|---|---|---|---|");
for (const r of rows) {
  const ratio = r.ours.seconds / r.floor.seconds;
  console.log(
    `| ${r.title} | ${fmt(r.ours.seconds, "s")} | ${fmt(r.floor.seconds, "s")} (${r.floorLabel}) | ${ratio.toFixed(2)}x | ${fmt(r.ours.rss, "MiB")} / ${fmt(r.floor.rss, "MiB")} |`,
  );
}
