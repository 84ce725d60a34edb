// The store's memory goal: a run of 1,000,000 rows with a trivial task, store on, finishes with peak RSS under
// 300 MB because finished rows leave memory once written. Prints peak RSS, rows/s and the stored row count.
// usage: node bench/store-1m.mjs [rows=1000000]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const rows = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(path.join(os.tmpdir(), "evalrun-bench-1m-"));
const rssFile = path.join(dir, "rss.txt");
writeFileSync(
  path.join(dir, "big.eval.ts"),
  `import { Eval } from "evalrun";
async function* rows() { for (let i = 0; i < ${rows}; i++) yield { input: i, expected: i }; }
Eval("big", { data: rows, task: (x: number) => x, scores: [function exact({ output, expected }: any) { return output === expected; }], maxConcurrency: 50 });
`,
);
const measure = (args) => {
  writeFileSync(rssFile, "");
  const started = process.hrtime.bigint();
  const child = spawnSync(process.execPath, [path.join(root, "dist/bin.js"), ...args], {
    cwd: dir,
    encoding: "utf8",
    env: {
      ...process.env,
      NODE_OPTIONS: `--require ${path.join(root, "bench/rss-probe.cjs")}`,
      EVALRUN_BENCH_RSS: rssFile,
    },
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (child.status !== 0) throw new Error(`evalrun exited ${child.status}\n${child.stderr}`);
  return { seconds, rss: Number(readFileSync(rssFile, "utf8").trim().split("\n").pop()) / 1024 };
};
try {
  const noStore = measure(["big.eval.ts", "--no-store"]);
  const withStore = measure(["big.eval.ts", "--store", "store.db"]);
  const Database = createRequire(import.meta.url)(path.join(root, "node_modules/better-sqlite3"));
  const count = () => {
    const db = new Database(path.join(dir, "store.db"), { readonly: true });
    const n = db.prepare("SELECT count(*) AS n FROM results").get().n;
    db.close();
    return n;
  };
  const stored = count();
  // What a user's next run sees: every row compared with the first run's (past 300,000 keys, in SQLite).
  const rerun = measure(["big.eval.ts", "--store", "store.db"]);
  const storedAfter = count() - stored;
  console.log(
    `evalrun store bench: ${rows.toLocaleString("en")} rows, trivial task, maxConcurrency 50, node ${process.version}\n`,
  );
  console.log("| run | wall | rows/s | peak RSS |");
  console.log("|---|---|---|---|");
  for (const [label, m] of [
    ["store on", withStore],
    ["store on, a re-run compared with it", rerun],
    ["--no-store (in-memory)", noStore],
  ]) {
    console.log(
      `| ${label} | ${m.seconds.toFixed(2)} s | ${Math.round(rows / m.seconds).toLocaleString("en")} | ${m.rss.toFixed(0)} MiB |`,
    );
  }
  console.log(
    `\nrows in the store: ${stored.toLocaleString("en")}, then ${storedAfter.toLocaleString("en")} (goal: ${rows.toLocaleString("en")} each); peak RSS goal: under 300 MB`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
