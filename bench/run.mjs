// Speed and memory of evalrun on the workloads of workloads.mjs, each beside a floor measured in the same run, one
// run of each in turn: whole processes, store on, median of N runs after a warm-up. Each workload runs repeatedly
// in one directory, so from the second run on it is stored and compared with the previous run, as a user's
// re-runs are.
//
//   node bench/run.mjs [runs=5] [w1 w2 ...]        evalrun against its floors and targets
//   PEERS_DIR=/scratch node bench/run.mjs peers    also braintrust 3.35 and evalite 0.19 installed under PEERS_DIR
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { workloads } from "./workloads.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = path.join(root, "dist", "bin.js");
const probe = path.join(root, "bench", "rss-probe.cjs");
const args = process.argv.slice(2);
const peers = args.includes("peers");
const runs = Number(args.find((a) => /^\d+$/.test(a)) ?? (peers ? 3 : 5));
const chosen = args.filter((a) => /^w\d\w*$/.test(a));
// A typo (or --help) would otherwise start every workload, minutes of both cores.
const unknown = args.filter((a) => a !== "peers" && !/^\d+$/.test(a) && !(a in workloads));
if (unknown.length > 0) {
  console.error(
    `bench/run.mjs: unknown argument(s) ${unknown.join(", ")}.\nUsage: node bench/run.mjs [runs=5] [${Object.keys(workloads).join(" ")}] [peers]`,
  );
  process.exit(2);
}
const names = chosen.length > 0 ? chosen : Object.keys(workloads);
const dir = mkdtempSync(path.join(os.tmpdir(), "evalrun-bench-"));
const rssFile = path.join(dir, "rss.txt");

/** One timed run; `before` (untimed) readies its directory; `unset` names environment variables left out. */
function measure(command, argv, cwd, before, unset = []) {
  before?.();
  writeFileSync(rssFile, "");
  const env = {
    ...process.env,
    NODE_OPTIONS: `--require ${probe}`,
    EVALRUN_BENCH_RSS: rssFile,
    NO_COLOR: "1",
    ROWS_LOG: path.join(dir, "rows.log"),
  };
  for (const name of unset) delete env[name];
  const start = process.hrtime.bigint();
  const child = spawnSync(command, argv, { cwd, encoding: "utf8", env });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (child.status !== 0)
    throw new Error(`${command} ${argv.join(" ")} exited ${child.status}\n${child.stdout}\n${child.stderr}`);
  const rss =
    Math.max(0, ...readFileSync(rssFile, "utf8").trim().split("\n").filter(Boolean).map(Number)) / 1024;
  return { seconds, rss };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];

const medians = (samples) => ({
  seconds: median(samples.map((s) => s.seconds)),
  rss: median(samples.map((s) => s.rss)),
});

/** Median of `n` runs after a warm-up (file cache, compiled-bundle cache, and a baseline in the store). */
function repeat(command, argv, cwd, n = runs) {
  measure(command, argv, cwd);
  return medians(Array.from({ length: n }, () => measure(command, argv, cwd)));
}

/**
 * Medians of `n` runs of each command, taken in turn (a, b, a, b, ...) after a warm-up of each: this machine's
 * speed drifts by 20-30% within minutes, and a workload timed minutes before its floor could land on either side
 * of its target for that alone. In turn, both see the same phases, and so does their ratio.
 */
function interleaved(commands, n = runs) {
  for (const c of commands) measure(...c);
  const samples = commands.map(() => []);
  for (let i = 0; i < n; i++) {
    for (const [k, c] of commands.entries()) samples[k].push(measure(...c));
  }
  return samples.map(medians);
}

/**
 * The command timing evalrun on one workload (its directory and eval file made on first use); a workload `like`
 * another runs that one's eval file, and with `emptyStore` each run starts without the store.
 */
function evalrunCommand(name, extra = []) {
  const w = workloads[name];
  const like = w.like ?? name;
  const file = `${like}.eval.ts`;
  const wdir = path.join(dir, name);
  mkdirSync(wdir, { recursive: true });
  writeFileSync(path.join(wdir, file), workloads[like].evalFile);
  if (w.project && !existsSync(path.join(wdir, ".git"))) makeProject(wdir);
  const before = w.emptyStore
    ? () => rmSync(path.join(wdir, ".evalrun"), { recursive: true, force: true })
    : undefined;
  return [process.execPath, [bin, file, "--no-progress", ...extra], wdir, before];
}

/** Makes `wdir` a user's project: `evalrun init`'s config, committed in a git repository (when git is installed). */
function makeProject(wdir) {
  cpSync(path.join(root, "templates", "evalrun.config.ts"), path.join(wdir, "evalrun.config.ts"));
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: "bench",
    GIT_AUTHOR_EMAIL: "b@b",
    GIT_COMMITTER_NAME: "bench",
    GIT_COMMITTER_EMAIL: "b@b",
  };
  for (const args of [
    ["init", "-q"],
    ["add", "-A"],
    ["commit", "-q", "-m", "bench"],
  ]) {
    const git = spawnSync("git", args, { cwd: wdir, env, encoding: "utf8" });
    if (git.status !== 0) {
      process.stderr.write(
        `w1project: git ${args[0]} failed (${git.error?.message ?? git.stderr.trim()}); timed without a repository\n`,
      );
      return;
    }
  }
}

/** The command timing a workload's floor: the same work in a plain node script. */
function floorCommand(name) {
  const like = workloads[name].like ?? name;
  const wdir = path.join(dir, name);
  mkdirSync(wdir, { recursive: true });
  writeFileSync(path.join(wdir, "floor.mjs"), workloads[like].floor ?? "");
  return [process.execPath, ["floor.mjs"], wdir];
}

/** evalrun's figures on a workload and its floor's, measured in turn. */
function measureWorkload(name) {
  if (name === "w5") {
    // W5's floor is evalrun itself in the main thread; the figure is the speed-up of --workers 2.
    const [ours, floor] = interleaved([
      evalrunCommand(name, ["--workers", "2"]),
      evalrunCommand(name, ["--workers", "0"]),
    ]);
    return { ours, floor };
  }
  if (name === "w3") {
    // The ideal 0.4 s plus W1's start-up, W1 timed in turn with W3.
    const [ours, w1] = interleaved([evalrunCommand(name), evalrunCommand("w1")]);
    return { ours, floor: { seconds: 0.4 + w1.seconds, rss: Number.NaN } };
  }
  const scripts = issueScriptCommands(name);
  const [ours, floor, ...issue] = interleaved([evalrunCommand(name), floorCommand(name), ...scripts]);
  return { ours, floor, issue: scripts.length > 0 ? issue : undefined };
}

const issueScript = path.join(root, "..", "shared", "peers", "baseline", "baseline.mjs");

/** What the issue's floor script took there for each of its workloads (W1, W2, W4), from the workloads' targets. */
const issueFloors = new Map(
  Object.values(workloads)
    .filter((w) => w.target.issueScript)
    .map((w) => [w.target.issueScript, w.target.issueFloor]),
);

/**
 * For a target set in seconds on the issue's machine: the commands timing the script that measured the issue's
 * floors (../shared/peers), on each of its workloads, so that this machine's speed against the issue's is
 * estimated from all three of its figures, not one; none when the script is not beside the checkout (the target
 * then falls back to a ratio).
 */
function issueScriptCommands(name) {
  if (!workloads[name].target.issueScript || !existsSync(issueScript)) return [];
  const wdir = path.join(dir, name);
  mkdirSync(wdir, { recursive: true });
  return [...issueFloors.keys()].map((which) => [process.execPath, [issueScript, which], wdir]);
}

/** The peers' own eval files (../shared/peers), run where they are installed. */
function peerRuns(name) {
  const peersDir = process.env.PEERS_DIR;
  const sources = path.join(root, "..", "shared", "peers");
  if (!peersDir || !existsSync(sources) || name === "w5" || workloads[name].like) return {};
  const out = {};
  const bt = path.join(peersDir, "braintrust");
  if (existsSync(path.join(bt, "node_modules", ".bin", "braintrust"))) {
    mkdirSync(path.join(bt, "evals"), { recursive: true });
    cpSync(path.join(sources, "braintrust", `${name}.eval.ts`), path.join(bt, "evals", `${name}.eval.ts`));
    out.braintrust = repeat(
      path.join(bt, "node_modules", ".bin", "braintrust"),
      ["eval", `evals/${name}.eval.ts`, "--no-send-logs"],
      bt,
    );
  }
  const ev = path.join(peersDir, "evalite");
  // evalite's W2 takes ~5 minutes and its W4 does not finish: only W1 and W3 are timed, as in shared/peers.
  if ((name === "w1" || name === "w3") && existsSync(path.join(ev, "node_modules", ".bin", "evalite"))) {
    const runDir = path.join(ev, "runs", name);
    mkdirSync(runDir, { recursive: true });
    for (const f of readdirSync(path.join(sources, "evalite", name)))
      cpSync(path.join(sources, "evalite", name, f), path.join(runDir, f));
    out.evalite = repeat(path.join(ev, "node_modules", ".bin", "evalite"), ["run"], runDir);
  }
  return out;
}

/**
 * Node reads NODE_EXTRA_CA_CERTS's file (and builds its root store) as it starts, before any of a process's own
 * code: ~80 ms a process on the machine the README's table comes from, which sets it. Every figure, floors and
 * peers included, pays it once a process; timed here so that a reader can tell it from evalrun's own start-up.
 */
function extraCaCost() {
  if (!process.env.NODE_EXTRA_CA_CERTS) return undefined;
  const bare = [process.execPath, ["-e", ""], dir];
  const [withIt, without] = interleaved([bare, [...bare, undefined, ["NODE_EXTRA_CA_CERTS"]]]);
  return { withIt: withIt.seconds, without: without.seconds };
}

const rows = [];
let extraCa;
try {
  extraCa = extraCaCost();
  for (const name of names) {
    const w = workloads[name];
    const { ours, floor, issue } = measureWorkload(name);
    rows.push({ name, w, ours, floor, issue, peers: {} });
    process.stderr.write(`${name} done\n`);
  }
  // The peers run after every evalrun workload, not between them: their heavy runs (evalite's W3 takes a minute,
  // braintrust's W4 writes hundreds of MB) left the machine busy flushing and evalrun's next workload slower.
  if (peers) {
    for (const row of rows) {
      row.peers = peerRuns(row.name);
      process.stderr.write(`${row.name} peers done\n`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const s = (n) => (Number.isFinite(n) ? `${n.toFixed(3)} s` : "–");
const mib = (n) => (Number.isFinite(n) && n > 0 ? `${n.toFixed(0)} MiB` : "–");
const mark = (ok) => (ok ? "✓" : "✗");
/**
 * The target cell: the issue's own words, then the same target on this machine: its seconds scaled by how fast the
 * issue's floor script ran here against there over its three workloads, or (without the script) the ratio to the
 * floor they imply. The workload's own floor figure alone is shown too: W2's (0.16 s) puts the issue's machine 1.6
 * to 2.1x slower than this one, where W1's, W4's and Braintrust's put it 1.3 to 1.6x slower.
 */
function targetCell(r) {
  const t = r.w.target;
  if (t.speedup) return `${t.label} ${mark(r.floor.seconds / r.ours.seconds >= t.speedup)}`;
  if (t.ratio) return `${t.label} ${mark(r.ours.seconds / r.floor.seconds <= t.ratio)}`;
  const memoryOk = !t.rssMiB || r.ours.rss < t.rssMiB;
  const inTime = r.ours.seconds < t.seconds && memoryOk;
  if (r.issue) {
    const which = [...issueFloors.keys()];
    const there = which.reduce((sum, w) => sum + issueFloors.get(w), 0);
    const timed = r.issue.reduce((sum, m) => sum + m.seconds, 0);
    const here = (t.seconds * timed) / there;
    const own = (t.seconds * r.issue[which.indexOf(t.issueScript)].seconds) / t.issueFloor;
    const figures = which
      .map((w, i) => `${w} ${r.issue[i].seconds.toFixed(3)}/${issueFloors.get(w)}`)
      .join(", ");
    return `${t.label} ${mark(inTime)}; here < ${s(here)} ${mark(r.ours.seconds < here && memoryOk)} (the issue's floor script ran ${(there / timed).toFixed(2)}x faster here: ${figures} s; by ${t.issueScript}'s alone < ${s(own)} ${mark(r.ours.seconds < own && memoryOk)})`;
  }
  const ratio = t.seconds / t.issueFloor;
  return `${t.label} ${mark(inTime)}; ≤ ${ratio.toFixed(2)}x floor ${mark(r.ours.seconds / r.floor.seconds <= ratio)}`;
}
console.log(
  `evalrun bench: median of ${runs} runs, whole processes, store on; node ${process.version}, ${os.availableParallelism()} cores\n`,
);
const peerCols = peers ? " braintrust 3.35 | evalite 0.19 |" : "";
console.log(`| workload | evalrun | peak RSS | floor | ratio | target |${peerCols}`);
console.log(`|---|---|---|---|---|---|${peers ? "---|---|" : ""}`);
for (const r of rows) {
  const ratio =
    r.name === "w5"
      ? `${(r.floor.seconds / r.ours.seconds).toFixed(2)}x faster`
      : `${(r.ours.seconds / r.floor.seconds).toFixed(2)}x`;
  const floor = `${s(r.floor.seconds)}${Number.isFinite(r.floor.rss) && r.w.target.rssMiB ? `, ${mib(r.floor.rss)}` : ""} (${r.w.floorLabel})`;
  const peer = (p) => (p ? `${s(p.seconds)}, ${mib(p.rss)}` : "–");
  const peerCells = peers ? ` ${peer(r.peers.braintrust)} | ${peer(r.peers.evalite)} |` : "";
  console.log(
    `| ${r.w.title} | ${s(r.ours.seconds)} | ${mib(r.ours.rss)} | ${floor} | ${ratio} | ${targetCell(r)} |${peerCells}`,
  );
}
if (extraCa) {
  console.log(
    `\nNODE_EXTRA_CA_CERTS is set: \`node -e ''\` takes ${s(extraCa.withIt)} with it, ${s(extraCa.without)} without; each Node process pays the difference once as it starts (an evalrun run is one process; its threads do not pay it).`,
  );
}
