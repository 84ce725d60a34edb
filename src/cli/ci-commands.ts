import type { Command } from "commander";
import { EvalrunError } from "../define/errors.js";
import { addGateOptions } from "./ci-options.js";
import type { BaselineFlags } from "./commands/baseline.js";
import type { MergeFlags } from "./commands/merge.js";
import { rate } from "./parse.js";

const STORE_HELP = "the store file (default: EVALRUN_STORE, the config's store, else .evalrun/evalrun.db)";

/** `evalrun baseline save` and `evalrun merge`: the commands of committed baselines and sharded CI runs. */
export function addCiCommands(program: Command, run: (fn: () => Promise<number>) => Promise<void>): void {
  const quiet = (cmd: Command) => cmd.exitOverride().configureOutput({ outputError: () => {} });
  const baseline = quiet(
    program.command("baseline").description("committed baselines: evalrun baseline save"),
  ).action(() => {
    throw new EvalrunError(
      "USAGE",
      "`evalrun baseline` needs a command.",
      "`evalrun baseline save [EVAL...]` writes each eval's latest run as its committed baseline.",
    );
  });
  quiet(
    baseline
      .command("save")
      .description(
        "write each eval's latest complete experiment to __baselines__/<eval>.jsonl beside its file, to commit",
      )
      .argument("[evals...]", "only these evals (default: every eval with a complete experiment)")
      .option("--store <path>", STORE_HELP)
      .option("--config <path>", "the config file whose `store` and `baselineDir` to use")
      .option("--baseline-dir <dir>", "write the files here instead of beside each eval file")
      .option("--json", "machine-readable output"),
  ).action(async (names: string[], flags: BaselineFlags) =>
    run(async () => (await import("./commands/lazy.js")).baselineSaveCommand(names, flags)),
  );
  quiet(
    addGateOptions(
      program
        .command("merge")
        .description(
          "join the exports of a sharded run (--shard I/N --export DIR) into one experiment per eval, then gate it",
        )
        .argument("<files...>", "the .jsonl files every shard wrote with --export")
        .option("--store <path>", STORE_HELP)
        .option("--no-store", "keep nothing: merge in an in-memory store")
        .option("--config <path>", "the config file whose `store` and `baselineDir` to use")
        .option("--baseline <ref>", "compare with this experiment (name or id) or export file (.jsonl)")
        .option(
          "--max-error-rate <rate>",
          "tolerate this fraction of errored results per eval, e.g. 0.05",
          rate,
        )
        .option("--verbose", "show stack traces for errors"),
    ),
  ).action(async (files: string[], flags: MergeFlags) =>
    run(async () => (await import("./commands/lazy.js")).mergeCommand(files, flags)),
  );
}
