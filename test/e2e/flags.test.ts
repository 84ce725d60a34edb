import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { jsonLines, project, ROOT, runCli, summaryOf } from "../helpers/cli.js";

const HEADER = `import { Eval } from "evalrun";\n`;
const ROUTER = `${HEADER}
import { writeFileSync } from "node:fs";
Eval("router", {
  data: [
    { input: "I was charged twice", expected: "billing", metadata: { lang: "en", channel: "chat" } },
    { input: "Where is my parcel?", expected: "shipping", metadata: { lang: "en", channel: "email" } },
    { input: "Me cobraron dos veces", expected: "billing", metadata: { lang: "es", channel: "chat" } },
    { input: "Wo ist mein Paket?", expected: "shipping", metadata: { lang: "de", channel: "chat" } },
  ],
  task: (input: string) => {
    if (process.env.RAN_MARK) writeFileSync(process.env.RAN_MARK, "ran");
    return /charged|cobraron/.test(input) ? "billing" : "shipping";
  },
  scores: [function correct({ output, expected }: any) { return output === expected; }],
});
Eval("other", { data: [{ input: 1 }, { input: 2 }], task: (x: number) => x, scores: [() => 1], trialCount: 2 });
`;

describe("--filter", () => {
  it("runs only rows whose field at a dotted path matches, all filters together", async () => {
    const dir = project({ "router.eval.ts": ROUTER });
    const chat = await runCli(["--jsonl", "--filter", "metadata.channel=^chat$"], { cwd: dir });
    expect(chat.code).toBe(0);
    expect(summaryOf(chat.stdout, "router").metrics.rows?.metric).toBe(3);
    // A row without the field never matches: "other" has no metadata.
    expect(summaryOf(chat.stdout, "other").metrics.rows?.metric).toBe(0);
    const both = await runCli(["--jsonl", "--filter", "metadata.channel=chat", "--filter", "expected=bill"], {
      cwd: dir,
    });
    expect(summaryOf(both.stdout, "router").metrics.rows?.metric).toBe(2);
    const input = await runCli(["--jsonl", "--filter", "input=(?i)parcel|paket".replace("(?i)", "")], {
      cwd: dir,
    });
    expect(summaryOf(input.stdout, "router").metrics.rows?.metric).toBe(1);
  });

  it("rejects a filter without PATH=REGEX or with a broken regex (exit 2)", async () => {
    const dir = project({ "router.eval.ts": ROUTER });
    const syntax = await runCli(["--filter", "metadata.lang"], { cwd: dir });
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toContain('--filter "metadata.lang" is not of the form PATH=REGEX.');
    expect(syntax.stderr).toContain("hint:");
    const regex = await runCli(["--filter", "input=(unclosed"], { cwd: dir });
    expect(regex.code).toBe(2);
    expect(regex.stderr).toContain('--filter "input=(unclosed" has an invalid regular expression');
    expect(regex.stdout).toBe("");
  });
});

describe("--list", () => {
  it("lists evals with their row counts (after filters) and runs nothing", async () => {
    const dir = project({ "router.eval.ts": ROUTER });
    const mark = path.join(dir, "ran.txt");
    const list = await runCli(["--list"], { cwd: dir, env: { RAN_MARK: mark } });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/router\s+router\.eval\.ts\s+4 rows/);
    expect(list.stdout).toMatch(/other\s+router\.eval\.ts\s+2 rows × 2 trials/);
    expect(existsSync(mark)).toBe(false);
    const filtered = await runCli(["--list", "--jsonl", "--filter", "metadata.lang=es"], {
      cwd: dir,
      env: { RAN_MARK: mark },
    });
    expect(jsonLines(filtered.stdout)).toEqual([
      { name: "router", file: "router.eval.ts", rows: 1, trialCount: 1, results: 1 },
      { name: "other", file: "router.eval.ts", rows: 0, trialCount: 2, results: 0 },
    ]);
    expect(existsSync(mark)).toBe(false);
    // Rows that give their own trialCount: the results a run makes, as it makes them.
    const own = project({
      "own.eval.ts": `${HEADER}Eval("own", { data: [{ input: 1, trialCount: 4 }, { input: 2 }], task: (x: number) => x, scores: [], trialCount: 2 });\n`,
    });
    const listed = await runCli(["--list"], { cwd: own });
    expect(listed.stdout).toMatch(
      /own\s+own\.eval\.ts\s+2 rows, 6 results \(rows give their own trialCount\)/,
    );
    const forced = await runCli(["--list", "--jsonl", "--trials", "3"], { cwd: own });
    expect(jsonLines(forced.stdout)).toEqual([
      { name: "own", file: "own.eval.ts", rows: 2, trialCount: 3, results: 6 },
    ]);
  });
});

describe("usage errors exit 2 with a clear message", () => {
  it("rejects an unknown flag and suggests the right one", async () => {
    const dir = project({ "router.eval.ts": ROUTER });
    const result = await runCli(["--filtre", "x=y"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("[USAGE] Unknown option '--filtre'");
    expect(result.stderr).toContain("--filter");
    expect(result.stderr).toContain("evalrun --help");
  });

  it("takes Braintrust's --no-send-logs from a ported CI script, and runs as without it", async () => {
    const dir = project({ "router.eval.ts": ROUTER });
    const plain = await runCli(["--no-store", "--jsonl"], { cwd: dir });
    const result = await runCli(["--no-send-logs", "--no-store", "--jsonl"], { cwd: dir });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(plain.code);
    expect(summaryOf(result.stdout, "router").scores).toEqual(summaryOf(plain.stdout, "router").scores);
  });

  it("rejects bad numbers for numeric flags", async () => {
    const dir = project({ "router.eval.ts": ROUTER });
    for (const args of [
      ["--trials", "0"],
      ["--max-concurrency", "two"],
      ["--timeout", "-5"],
      ["--timeout", "3000000000"],
      ["--max-error-rate", "2"],
    ]) {
      const result = await runCli(args, { cwd: dir });
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toContain("[USAGE]");
      expect(result.stderr).toContain(args[0]);
    }
  });

  it("names a path that does not exist", async () => {
    const dir = project({ "router.eval.ts": ROUTER });
    const result = await runCli(["evals/missing.eval.ts"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('[PATH_NOT_FOUND] The path "evals/missing.eval.ts" does not exist');
    // A path from the config's paths: named as the config's, with the fix there.
    const configured = project({
      "router.eval.ts": ROUTER,
      "evalrun.config.mjs": 'export default { paths: ["nothing"] };\n',
    });
    const fromConfig = await runCli([], { cwd: configured });
    expect(fromConfig.code).toBe(2);
    expect(fromConfig.stderr).toContain("does not exist (looked for");
    expect(fromConfig.stderr).toContain("; it is in the paths of evalrun.config.mjs.");
    expect(fromConfig.stderr).toContain("hint: Fix the config's paths");
  });

  it("refuses flags that contradict each other or that --watch would ignore", async () => {
    const dir = project({ "router.eval.ts": ROUTER });
    const both = await runCli(["--no-store", "--store", "x.db"], { cwd: dir });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("[USAGE] --store and --no-store cannot be used together.");
    const watch = await runCli(["--watch", "--first", "2", "--ci"], { cwd: dir });
    expect(watch.code).toBe(2);
    expect(watch.stderr).toContain("[USAGE] --watch does not take --first, --ci:");

    const list = await runCli(["--list", "--first", "2"], { cwd: dir });
    expect(list.code).toBe(2);
    expect(list.stderr).toContain("--list counts each eval's rows after --filter; it does not take --first.");
    const resume = await runCli(["--no-store", "--resume"], { cwd: dir });
    expect(resume.code).toBe(2);
    expect(resume.stderr).toContain("--resume cannot be used with --no-store");
    const typo = await runCli(["experimens"], { cwd: dir });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain(
      '"experimens" is neither a command nor a path here (did you mean the command "experiments"?)',
    );
    expect(existsSync(path.join(dir, ".evalrun"))).toBe(false);
    // A --baseline that names nothing ends a session as it ends a run, instead of running every eval without one.
    const ran = project({ "router.eval.ts": ROUTER });
    expect((await runCli(["--no-progress"], { cwd: ran })).code).toBe(0);
    const named = await runCli(["--watch", "--baseline", "main-typo"], { cwd: ran });
    expect(named.code).toBe(2);
    expect(named.stderr).toContain('[NOT_FOUND] No experiment is named or has the id "main-typo".');
  });

  it("exits 2 when no eval file is found, 0 with --pass-with-no-evals", async () => {
    const dir = project({
      "src/app.ts": "export {};\n",
      "node_modules/dep/x.eval.ts": ROUTER,
      "dist/y.eval.ts": ROUTER,
    });
    const none = await runCli([], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("[NO_EVALS] No eval files found");
    expect(none.stderr).toContain("evalrun init");
    const pass = await runCli(["--pass-with-no-evals"], { cwd: dir });
    expect(pass.code).toBe(0);
    expect(pass.stdout).toContain("no eval files found; passing (--pass-with-no-evals)");
    // A config elsewhere searches its own directory: the message names it, not ".".
    writeFileSync(path.join(dir, "src", "x.config.mjs"), "export default { trials: 2 };\n");
    const elsewhere = await runCli(["--config", "src/x.config.mjs"], { cwd: dir });
    expect(elsewhere.stderr).toContain("[NO_EVALS] No eval files found in src (looked for");
    expect(elsewhere.stderr).not.toContain("almost");
    // A file named almost as an eval file is named, with the name it needs.
    writeFileSync(path.join(dir, "src", "router.evals.ts"), ROUTER);
    writeFileSync(path.join(dir, "node_modules", "dep", "z.evals.ts"), ROUTER);
    const near = await runCli([], { cwd: dir });
    expect(near.code).toBe(2);
    expect(near.stderr).toContain(
      `Files named almost so: ${path.join("src", "router.evals.ts")} (to run it, name it router.eval.ts).`,
    );
    // Not one the config excludes: renamed, it would still not run.
    writeFileSync(path.join(dir, "evalrun.config.mjs"), 'export default { exclude: ["src/**"] };\n');
    const excluded = await runCli([], { cwd: dir });
    expect(excluded.code).toBe(2);
    expect(excluded.stderr).not.toContain("almost");
  });

  it("prints help with every flag and the version", async () => {
    const dir = project({});
    const help = await runCli(["--help"], { cwd: dir });
    expect(help.code).toBe(0);
    for (const flag of [
      "--filter",
      "--list",
      "--jsonl",
      "--max-concurrency",
      "--trials",
      "--timeout",
      "--no-progress",
      "--env-file",
      "--pass-with-no-evals",
      "--max-error-rate",
      "--config",
      "--verbose",
      "init",
      "Exit codes",
    ]) {
      expect(help.stdout).toContain(flag);
    }
    const version = await runCli(["--version"], { cwd: dir });
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(version.stdout.trim()).toBe(pkg.version);
  });
});

describe("the machine around the run", () => {
  it("says a TMPDIR it cannot write compiled files to, and a working directory that was deleted", async () => {
    const dir = project({
      "t.eval.ts": `import { Eval } from "evalrun";\nEval("t-${Date.now()}", { data: [{ input: 1 }], task: (x: number) => x, scores: [] });\n`,
      tmpfile: "a file, not a directory\n",
    });
    const tmp = await runCli(["--no-store"], { cwd: dir, env: { TMPDIR: path.join(dir, "tmpfile") } });
    expect(tmp.code).toBe(2);
    expect(tmp.stderr).toContain("[USAGE] Cannot write compiled eval files to");
    expect(tmp.stderr).toContain("point TMPDIR at a writable directory");
    const { spawnSync } = await import("node:child_process");
    const gone = spawnSync(
      "bash",
      [
        "-c",
        `mkdir gone && cd gone && rmdir ../gone && exec "${process.execPath}" "${path.join(ROOT, "dist/bin.js")}" --no-store`,
      ],
      { cwd: dir, encoding: "utf8" },
    );
    expect(gone.status).toBe(2);
    expect(gone.stderr).toContain("The current directory no longer exists");
    expect(gone.stderr).not.toContain("internal error");
  });
});

describe("evalrun.config.*", () => {
  it("sets defaults that flags override", async () => {
    const dir = project({
      "package.json": JSON.stringify({ name: "app", type: "module" }),
      "evals/router.eval.ts": ROUTER,
      "scratch/ignored.eval.ts": `${HEADER}Eval("ignored", { data: [{ input: 1 }], task: () => { throw new Error("should not run"); }, scores: [] });`,
      // Its own trialCount and timeout beat the config's defaults (a flag beats both).
      "evals/own.eval.ts": `${HEADER}Eval("own", { data: [{ input: 1, metadata: { lang: "en" } }], task: async (x: number) => { await new Promise((r) => setTimeout(r, 300)); return x; }, scores: [], trialCount: 2, timeout: 5000 });`,
      "evalrun.config.ts": `import { defineConfig } from "evalrun";\nexport default defineConfig({ paths: ["evals"], trials: 3, timeout: 100, filter: ["metadata.lang=en"] });\n`,
    });
    const fromConfig = await runCli(["--jsonl"], { cwd: dir });
    expect(fromConfig.code).toBe(0);
    expect(
      jsonLines(fromConfig.stdout)
        .map((s) => s.project_name)
        .sort(),
    ).toEqual(["other", "own", "router"]);
    expect(summaryOf(fromConfig.stdout, "router").metrics.rows?.metric).toBe(6); // 2 en rows × 3 trials
    expect(summaryOf(fromConfig.stdout, "own").metrics.rows?.metric).toBe(2);
    expect(summaryOf(fromConfig.stdout, "own").metrics.errors?.metric).toBe(0);
    const overridden = await runCli(["--jsonl", "--trials", "1", "--filter", "metadata.lang=de"], {
      cwd: dir,
    });
    expect(summaryOf(overridden.stdout, "router").metrics.rows?.metric).toBe(1);
    // From a subdirectory the project's config is still found.
    const nested = await runCli(["--jsonl"], { cwd: path.join(dir, "evals") });
    expect(summaryOf(nested.stdout, "router").metrics.rows?.metric).toBe(6);
  });

  it("reads a CommonJS config compiled from export default (tsc's exports.default)", async () => {
    const dir = project({
      "router.eval.ts": ROUTER,
      "evalrun.config.cjs":
        '"use strict";\nObject.defineProperty(exports, "__esModule", { value: true });\nexports.default = { trials: 2 };\n',
    });
    const result = await runCli(["--jsonl", "--no-store"], { cwd: dir });
    expect(result.stderr).toBe("");
    expect(summaryOf(result.stdout, "router").metrics.rows?.metric).toBe(8);
  });

  it("rejects an unknown key (suggesting the right one) and a wrong type, exit 2", async () => {
    const dir = project({
      "router.eval.ts": ROUTER,
      "evalrun.config.mjs": `export default { maxConcurency: 4, trials: "3", workers: "4", minScore: { Accuracy: 0.8 }, gate: { maxdrop: 0.1 } };\n`,
    });
    const result = await runCli([], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("[CONFIG] The config file evalrun.config.mjs is invalid");
    expect(result.stderr).toContain('unknown key "maxConcurency" (did you mean "maxConcurrency"?)');
    // zod's English messages (its mini build has none without the locale the schema sets).
    expect(result.stderr).toContain('"trials": Invalid input: expected number, received string');
    // Inside gate: named with its path, suggested from gate's keys; a union says what it takes.
    expect(result.stderr).toContain('unknown key "gate.maxdrop" (did you mean "gate.maxDrop"?)');
    // A gate setting at the top level is pointed at gate.
    expect(result.stderr).toContain('unknown key "minScore" (did you mean "gate.minScore"?)');
    expect(result.stderr).toContain('"workers": expected "auto" or a whole number of 0 or more');
    const filtered = project({
      "router.eval.ts": ROUTER,
      "evalrun.config.mjs": `export default { filter: ["nope"] };\n`,
    });
    const bad = await runCli([], { cwd: filtered });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      '[CONFIG] The config file evalrun.config.mjs is invalid: its filter entry "nope" is not of the form PATH=REGEX.',
    );
    expect(result.stderr).toContain("Valid keys:");
  });

  it("refuses a config that calls process.exit() or whose settings cannot be read, instead of ending silently", async () => {
    for (const [config, text] of [
      ["process.exit(0);\nexport default {};\n", "called process.exit(0) while loading; nothing ran."],
      [
        'export default { get paths() { throw new Error("no paths today"); } };\n',
        "reading its settings threw Error: no paths today.",
      ],
    ] as const) {
      const dir = project({ "router.eval.ts": ROUTER, "evalrun.config.mjs": config });
      const result = await runCli(["--no-store"], { cwd: dir });
      expect(result.code, config).toBe(2);
      expect(result.stderr).toContain("[CONFIG] The config file evalrun.config.mjs");
      expect(result.stderr).toContain(text);
      expect(result.stderr).not.toContain("internal error");
    }
  });

  it("reports a config file that does not compile or exports nothing", async () => {
    const broken = project({ "router.eval.ts": ROUTER, "evalrun.config.ts": "export default {{;\n" });
    const a = await runCli([], { cwd: broken });
    expect(a.code).toBe(2);
    expect(a.stderr).toContain("does not compile");
    expect(a.stderr).toContain("evalrun.config.ts:1:");
    const empty = project({ "router.eval.ts": ROUTER, "evalrun.config.js": "export const x = 1;\n" });
    const b = await runCli([], { cwd: empty });
    expect(b.code).toBe(2);
    expect(b.stderr).toContain("must export an object as default; it exports undefined");
    const explicit = await runCli(["--config", "nope.config.ts"], { cwd: empty });
    expect(explicit.code).toBe(2);
    expect(explicit.stderr).toContain("nope.config.ts does not exist");
  });
});

describe("environment files", () => {
  const ENV_EVAL = `${HEADER}
Eval("env", {
  data: [{ input: "API_KEY" }, { input: "REGION" }],
  task: (name: string) => process.env[name] ?? "",
  scores: [function present({ output }: any) { return output.length > 0; }],
});
`;

  it("loads .env by default, an --env-file when given, and never prints the values", async () => {
    const dir = project({
      "env.eval.ts": ENV_EVAL,
      ".env": "API_KEY=sk-test-secret-123\n",
      "ci.env": "API_KEY=sk-ci\nREGION=eu\n",
    });
    const byDefault = await runCli(["--jsonl"], { cwd: dir, env: { API_KEY: undefined, REGION: undefined } });
    expect(summaryOf(byDefault.stdout, "env").scores.present?.score).toBe(0.5);
    expect(byDefault.output).not.toContain("sk-test-secret-123");
    const explicit = await runCli(["--jsonl", "--env-file", "ci.env"], {
      cwd: dir,
      env: { API_KEY: undefined, REGION: undefined },
    });
    expect(summaryOf(explicit.stdout, "env").scores.present?.score).toBe(1);
    expect(explicit.output).not.toContain("sk-ci");
  });

  it("loads the project's .env when run from a subdirectory, as it finds the project's config and store", async () => {
    const dir = project({
      "package.json": JSON.stringify({ name: "app", private: true, type: "module" }),
      "evals/env.eval.ts": ENV_EVAL,
      ".env": "API_KEY=sk-root\nREGION=eu\n",
    });
    const env = { API_KEY: undefined, REGION: undefined };
    const fromSub = await runCli(["--jsonl", "--no-store", "env.eval.ts"], {
      cwd: path.join(dir, "evals"),
      env,
    });
    expect(summaryOf(fromSub.stdout, "env").scores.present?.score).toBe(1);
    // A .env in the current directory still comes first.
    writeFileSync(path.join(dir, "evals", ".env"), "API_KEY=sk-here\n");
    const near = await runCli(["--jsonl", "--no-store", "env.eval.ts"], {
      cwd: path.join(dir, "evals"),
      env,
    });
    expect(summaryOf(near.stdout, "env").scores.present?.score).toBe(0.5);
  });

  it("finds the store EVALRUN_STORE names in .env for the history commands too, as a run does", async () => {
    const dir = project({ "env.eval.ts": ENV_EVAL, ".env": "EVALRUN_STORE=from-dotenv.db\n" });
    const env = { EVALRUN_STORE: undefined, API_KEY: undefined, REGION: undefined };
    await runCli(["--jsonl"], { cwd: dir, env });
    expect(existsSync(path.join(dir, "from-dotenv.db"))).toBe(true);
    const listed = await runCli(["experiments", "--json"], { cwd: dir, env });
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as Array<{ project: string }>).map((e) => e.project)).toEqual(["env"]);
  });

  it("refuses an env file with a line that is not KEY=value, naming the line and never showing it", async () => {
    const dir = project({
      "env.eval.ts": ENV_EVAL,
      ".env": 'REGION=eu\nOPENAI_API_KEY sk-pasted-without-equals-123\nAPI_KEY="from-file\n',
    });
    const result = await runCli(["--no-store"], { cwd: dir, env: { API_KEY: undefined, REGION: undefined } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `[ENV_FILE] The env file ${path.join(dir, ".env")}: line 2 is not KEY=value`,
    );
    expect(result.stderr).not.toContain("sk-pasted");
    // The same line last in the file, which Node's parser drops without a word.
    writeFileSync(path.join(dir, ".env"), "REGION=eu\nOPENAI_API_KEY sk-pasted-at-the-end-456\n");
    const last = await runCli(["--no-store"], { cwd: dir, env: { API_KEY: undefined, REGION: undefined } });
    expect(last.code).toBe(2);
    expect(last.stderr).toContain("line 2 is not KEY=value");
    // What dotenv files hold besides: a byte-order mark, `export`, an indented line, a quoted multi-line value,
    // comments and CRLF line ends.
    const fine = project({
      "env.eval.ts": ENV_EVAL,
      ".env":
        '\uFEFFexport API_KEY=k1\r\n  \r\n    # an indented comment\r\n\tREGION="eu\r\nwest" # trailing\r\n',
    });
    const ok = await runCli(["--jsonl", "--no-store"], {
      cwd: fine,
      env: { API_KEY: undefined, REGION: undefined },
    });
    expect(ok.stderr).toBe("");
    expect(summaryOf(ok.stdout, "env").scores.present?.score).toBe(1);
  });

  it("keeps variables already in the environment, and rejects a missing env file", async () => {
    const dir = project({
      "env.eval.ts": `${HEADER}Eval("env", { data: [{ input: 1 }], task: () => process.env.API_KEY, scores: [function fromShell({ output }: any) { return output === "from-shell"; }] });`,
      ".env": "API_KEY=from-file\n",
    });
    const kept = await runCli(["--jsonl"], { cwd: dir, env: { API_KEY: "from-shell" } });
    expect(summaryOf(kept.stdout, "env").scores.fromShell?.score).toBe(1);
    const viaConfig = project({
      "env.eval.ts": ENV_EVAL,
      "evalrun.config.mjs": `export default { envFile: "prod.env" };\n`,
    });
    const missing = await runCli([], { cwd: viaConfig });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      `[ENV_FILE] The env file "${path.join(viaConfig, "prod.env")}" does not exist`,
    );
    // Node 20 itself checks any --env-file in argv before evalrun starts (exit 9, "node: prod.env: not found");
    // newer Node leaves it to evalrun (exit 2). Either way the run stops and names the file.
    const flag = await runCli(["--env-file", "prod.env"], { cwd: dir });
    expect([2, 9]).toContain(flag.code);
    expect(flag.stderr).toContain("prod.env");
  });
});
