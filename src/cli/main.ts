import { Command, CommanderError, Option } from "commander";
import { EvalrunError } from "../define/errors.js";
import { initCommand } from "./init-command.js";
import { flushOutput, printError } from "./output.js";
import { collect, positiveInteger, rate } from "./parse.js";
import { type RunFlags, runCommand } from "./run-command.js";
import { evalrunVersion } from "./version.js";

const AFTER_HELP = `
Examples:
  evalrun                              run every *.eval.ts under the current directory
  evalrun evals/router.eval.ts         run one file
  evalrun --filter metadata.lang=^en$  run only rows whose metadata.lang matches
  evalrun --list                       list evals and their row counts; run nothing
  evalrun --jsonl > summaries.jsonl    one JSON summary per eval per line
  evalrun init                         write a starter eval and config

Exit codes:
  0  every eval ran and no row errored
  1  an eval file failed to compile or load, an eval could not run, or a row errored
     (beyond --max-error-rate)
  2  usage or config error, or no eval files found (unless --pass-with-no-evals)
  130 interrupted with Ctrl-C (summaries cover the rows that finished)
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
      "--jsonl",
      "print one JSON summary (SummarizeExperimentResponse) per eval per line, and nothing else on stdout",
    )
    .option(
      "--max-concurrency <n>",
      "rows in flight across all evals (each eval is also capped by its maxConcurrency, default 10)",
      positiveInteger,
    )
    .option("--trials <n>", "run each row N times (overrides trialCount)", positiveInteger)
    .option("--timeout <ms>", "per-row time limit in ms (overrides timeout)", positiveInteger)
    .option("--no-progress", "no progress bars (they only show on a terminal anyway)")
    .option(
      "--env-file <path>",
      "load environment variables from this dotenv file (.env loads by itself when present)",
    )
    .option("--pass-with-no-evals", "exit 0 when no eval files are found")
    .option("--max-error-rate <rate>", "tolerate this fraction of errored results per eval, e.g. 0.05", rate)
    .option("--config <path>", "use this config file instead of the nearest evalrun.config.*")
    .addOption(new Option("--verbose", "show stack traces for errors"))
    .addHelpText("after", AFTER_HELP)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .action(async (paths: string[], flags: RunFlags, cmd: Command) => {
      exitCode = await onRun(paths, flags, cmd);
    });
  program
    .command("init")
    .description(
      "write a starter eval (evals/example.eval.ts) and evalrun.config.ts; never overwrites a file",
    )
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .action(async () => {
      exitCode = await initCommand(process.cwd());
    });
  return { program, result: () => exitCode };
}

/** Parses argv and runs the command; returns the process exit code. Never throws. */
export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes("--verbose");
  const { program, result } = buildProgram(runCommand);
  let code: number;
  try {
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
