import { Command, CommanderError, Option } from "commander";
import { EvalrunError } from "../define/errors.js";
import { evalrunVersion } from "../util/version.js";
import { addCiCommands } from "./ci-commands.js";
import { addGateOptions, addSelectionOptions } from "./ci-options.js";
import type { StoreFlags } from "./commands/store-access.js";
import { flushOutput, printError } from "./output.js";
import { collect, nonNegativeInteger, positiveInteger, rate, timeoutMs, workerCount } from "./parse.js";
import { type RunFlags, runCommand } from "./run-command.js";

const lazy = () => import("./commands/lazy.js");

const AFTER_HELP = `
Examples:
  evalrun                              run every *.eval.ts under the current directory
  evalrun evals/router.eval.ts         run one file
  evalrun --filter metadata.lang=^en$  run only rows whose metadata.lang matches
  evalrun --list                       list evals and their row counts; run nothing
  evalrun --watch                      re-run what each save affects (r all, f failing rows, q quit)
  evalrun --jsonl > summaries.jsonl    one JSON summary per eval per line
  evalrun --ci                         gate against the committed baselines; JUnit report too
  evalrun baseline save                commit the latest run's scores as the baselines
  evalrun init                         write a starter eval and config

Exit codes:
  0  every eval ran, no row errored and every gate passed
  1  an eval file failed to compile or load, an eval could not run, a row errored
     (beyond --max-error-rate), a score is below its threshold or regressed beyond noise
  2  usage or config error (a gate naming a score no scorer produced, too), or no eval
     files found (unless --pass-with-no-evals)
  130 interrupted with Ctrl-C (summaries cover the rows that finished); 143 by SIGTERM,
      129 by SIGHUP (the same, summaries included); 131 Ctrl-\\ (at once, rows committed kept)
`;

function buildProgram(onRun: (paths: string[], flags: RunFlags, cmd: Command) => Promise<number>): {
  program: Command;
  result: () => number | undefined;
} {
  let exitCode: number | undefined;
  const program = new Command("evalrun")
    .description("Run *.eval.ts files: every row through the task, scored, summarised. Offline, no API key.")
    .version(evalrunVersion(), "-v, --version", "print the version")
    .helpOption("-h, --help", "show this help")
    .argument("[paths...]", "eval files, directories or globs (default: the config's paths, else .)")
    .option(
      "--filter <path=regex>",
      "run only rows whose field at PATH matches REGEX (repeatable; all must match)",
      collect,
      [],
    )
    .option("--list", "list evals and row counts; run nothing")
    .option(
      "-w, --watch",
      "stay running: re-run the evals a saved file affects and show each score's change (keys: r, f, q)",
    )
    .option(
      "--jsonl",
      "print one JSON summary (SummarizeExperimentResponse) per eval per line, and nothing else on stdout",
    )
    .option(
      "--max-concurrency <n>",
      "rows in flight across all evals (each eval is also capped by its maxConcurrency, default 10)",
      positiveInteger,
    )
    .option("--trials <n>", "run each row N times (overrides trialCount)", positiveInteger)
    .option(
      "--workers <n>",
      'threads that run rows: "auto" (default: evals with a timeout, one per core), 0 (main thread), or N',
      workerCount,
    )
    .option("--timeout <ms>", "per-row time limit in ms (overrides timeout)", timeoutMs)
    .option("--no-progress", "no progress bars (they only show on a terminal anyway)")
    .option(
      "--env-file <path>",
      "load environment variables from this dotenv file (.env loads by itself when present)",
    )
    .option("--pass-with-no-evals", "exit 0 when no eval files are found")
    .option("--max-error-rate <rate>", "tolerate this fraction of errored results per eval, e.g. 0.05", rate)
    .option("--config <path>", "use this config file instead of the nearest evalrun.config.*")
    .option(
      "--store <path>",
      "the store file (default: EVALRUN_STORE, the config's store, else .evalrun/evalrun.db)",
    )
    .option("--no-store", "keep nothing: run against an in-memory store")
    .option("--baseline <ref>", "compare with this experiment (name or id) or export file (.jsonl)")
    .option("--resume", "continue each eval's last interrupted experiment, running only the rows it lacks")
    .option(
      "--retry-errors",
      "re-run only the rows that errored in each eval's last experiment (where only a scorer failed, only the scorers)",
    )
    .addOption(new Option("--verbose", "show stack traces for errors"))
    // Braintrust's CLI flag, in ported CI scripts: evalrun never sends logs anywhere, so it changes nothing.
    .addOption(
      new Option("--no-send-logs", "accepted for Braintrust's CLI; evalrun never sends logs").hideHelp(),
    )
    .addHelpText("after", AFTER_HELP)
    .showSuggestionAfterError(true)
    // Subcommands have their own --store; the run's flags belong to the run.
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .action(async (paths: string[], flags: RunFlags, cmd: Command) => {
      exitCode = await onRun(paths, flags, cmd);
    });
  const storeCommand = (name: string, description: string) =>
    program
      .command(name)
      .description(description)
      .option(
        "--store <path>",
        "the store file (default: EVALRUN_STORE, the config's store, else .evalrun/evalrun.db)",
      )
      .option("--config <path>", "the config file whose `store` to use")
      .option("--json", "machine-readable output")
      .exitOverride()
      .configureOutput({ outputError: () => {} });
  const run = (fn: () => Promise<number>) => async () => {
    exitCode = await fn();
  };
  addSelectionOptions(addGateOptions(program));
  addCiCommands(program, (fn) => run(fn)());
  storeCommand("experiments", "list stored experiments, newest first (one eval's with EVAL)")
    .argument("[eval]", "only this eval's experiments")
    .action(async (name: string | undefined, flags: StoreFlags) =>
      run(async () => (await lazy()).experimentsCommand(name, flags))(),
    );
  storeCommand("show", "an experiment's summary and its lowest-scoring rows")
    .argument("<experiment>", "an experiment name or id (or id prefix)")
    .option("--eval <name>", "the eval, when several have an experiment of that name")
    .option("--rows <n>", "how many rows to show", positiveInteger)
    .action(async (ref: string, flags: StoreFlags & { eval?: string; rows?: number }) =>
      run(async () => (await lazy()).showCommand(ref, flags))(),
    );
  storeCommand("compare", "how B's scores moved from A's, with the most regressed rows side by side")
    .argument("<a>", "the earlier experiment (name or id)")
    .argument("<b>", "the later experiment (name or id)")
    .option("--eval <name>", "the eval, when several have experiments of those names")
    .option("--rows <n>", "how many regressed rows to show", positiveInteger)
    .action(async (a: string, b: string, flags: StoreFlags & { eval?: string; rows?: number }) =>
      run(async () => (await lazy()).compareCommand(a, b, flags))(),
    );
  storeCommand("export", "write an experiment's rows (InsertEvent shape) to stdout")
    .argument("<experiment>", "an experiment name or id")
    .option("--format <format>", "jsonl (with a header line, re-importable), json or csv", "jsonl")
    .option("--eval <name>", "the eval, when several have an experiment of that name")
    .action(async (ref: string, flags: StoreFlags & { eval?: string; format?: string }) =>
      run(async () => (await lazy()).exportCommand(ref, flags))(),
    );
  storeCommand("import", "store an experiment from an export file (e.g. a CI artifact)")
    .argument("<file>", "a .jsonl export")
    .option("--eval <name>", "the eval the rows belong to (required when the file has no evalrun header)")
    .option("--name <name>", "the experiment's name (default: the export's)")
    .action(async (file: string, flags: StoreFlags & { eval?: string; name?: string }) =>
      run(async () => (await lazy()).importCommand(file, flags))(),
    );
  storeCommand("prune", "keep each eval's newest N complete runs (and anything newer), delete the rest")
    .argument("[eval]", "only this eval's experiments")
    .requiredOption("--keep <n>", "how many experiments of each eval to keep", nonNegativeInteger)
    .action(async (name: string | undefined, flags: StoreFlags & { keep: number }) =>
      run(async () => (await lazy()).pruneCommand(name, flags))(),
    );
  program
    .command("init")
    .description(
      "write a starter eval (evals/example.eval.ts) and evalrun.config.ts; never overwrites a file",
    )
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .action(async () => {
      exitCode = await (await lazy()).initCommand(process.cwd());
    });
  return { program, result: () => exitCode };
}

/** Parses argv and runs the command; returns the process exit code. Never throws. */
export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes("--verbose");
  const { program, result } = buildProgram(runCommand);
  let code: number;
  try {
    try {
      process.cwd();
    } catch {
      // uv_cwd fails when the directory the shell is in was deleted (a rebuilt checkout, a cleaned temp dir).
      throw new EvalrunError(
        "USAGE",
        "The current directory no longer exists (it was deleted or moved while this shell was in it).",
        'cd into the project again (cd "$PWD" is enough when it was recreated) and run evalrun from there.',
      );
    }
    // Both map to one option, where the later would silently win.
    if (argv.includes("--no-store") && argv.some((a) => a === "--store" || a.startsWith("--store="))) {
      throw new EvalrunError(
        "USAGE",
        "--store and --no-store cannot be used together.",
        "Give --store PATH to keep the run in that file, or --no-store to keep nothing.",
      );
    }
    await program.parseAsync(argv, { from: "user" });
    code = result() ?? 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === "commander.helpDisplayed" ||
        error.code === "commander.version" ||
        error.exitCode === 0
      ) {
        code = 0;
      } else {
        const message = error.message.replace(/^error: /, "");
        code = printError(
          new EvalrunError(
            "USAGE",
            `${message.charAt(0).toUpperCase()}${message.slice(1)}`,
            "Run `evalrun --help` for the flags and commands.",
          ),
          verbose,
        );
      }
    } else {
      code = printError(error, verbose);
    }
  }
  await flushOutput();
  return code;
}
