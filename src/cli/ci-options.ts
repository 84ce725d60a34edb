import { type Command, InvalidArgumentError } from "commander";
import { EvalrunError } from "../define/errors.js";
import { parseFraction, parseScoreRule, type ScoreRule } from "../gate/thresholds.js";
import type { GateOptions } from "../gate/types.js";
import { parseShard, type Selection, type Shard } from "../runner/selection.js";
import { nonNegativeInteger, positiveInteger } from "./parse.js";

/** The flags of gates and reporters (run and merge), and of row selection and exports (run only). */
export interface CiFlags {
  ci?: boolean;
  failOnRegression?: boolean;
  maxDrop?: number;
  confidence?: number;
  requireBaseline?: boolean;
  minScore: ScoreRule[];
  rowThreshold: ScoreRule[];
  reporter: string[];
  outfile: Outfile[];
  baselineDir?: string;
  first?: number;
  sample?: number;
  seed?: number;
  shard?: Shard;
  export?: string;
}

export interface Outfile {
  reporter: string;
  path: string;
}

const scoreRules =
  (flag: string) =>
  (value: string, previous: ScoreRule[]): ScoreRule[] => {
    const rule = parseScoreRule(value, flag);
    if ("problem" in rule) throw new InvalidArgumentError(`${rule.problem}.`);
    return [...previous, rule];
  };

function maxDrop(value: string): number {
  const n = parseFraction(value);
  if (n === undefined)
    throw new InvalidArgumentError("expected a drop between 0 and 1 (or 0% and 100%), e.g. 0.02 or 2%.");
  return n;
}

function confidence(value: string): number {
  const n = parseFraction(value);
  if (n === undefined || n <= 0 || n >= 1) {
    throw new InvalidArgumentError("expected a confidence strictly between 0 and 1, e.g. 0.95 or 99%.");
  }
  return n;
}

function shard(value: string): Shard {
  const parsed = parseShard(value);
  if ("problem" in parsed) throw new InvalidArgumentError(`${parsed.problem}.`);
  return parsed;
}

function reporters(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(",").map((name) => name.trim())];
}

function outfile(value: string, previous: Outfile[]): Outfile[] {
  const eq = value.indexOf("=");
  if (eq <= 0 || eq === value.length - 1) {
    throw new InvalidArgumentError(
      "expected REPORTER=PATH, e.g. --outfile junit=reports/junit.xml (PATH - is stdout).",
    );
  }
  return [...previous, { reporter: value.slice(0, eq).trim(), path: value.slice(eq + 1) }];
}

/** Gate and reporter flags, shared by a run and `evalrun merge`. */
export function addGateOptions(cmd: Command): Command {
  return cmd
    .option(
      "--ci",
      "gate for CI: --fail-on-regression, reporters default,junit (and github on GitHub Actions)",
    )
    .option("--fail-on-regression", "fail when a score dropped beyond noise against the baseline")
    .option(
      "--max-drop <x>",
      "drop of a score's mean tolerated even beyond noise (default 0), e.g. 0.02",
      maxDrop,
    )
    .option(
      "--confidence <c>",
      "confidence of the intervals and the regression test (default 0.95)",
      confidence,
    )
    .option("--require-baseline", "fail an eval that has no baseline instead of passing with a notice")
    .option(
      "--min-score <[eval:]name=value>",
      "fail when a score's mean is below VALUE (repeatable; beats Eval()'s thresholds)",
      scoreRules("--min-score"),
      [],
    )
    .option(
      "--row-threshold <[eval:][name=]value>",
      "mark rows whose score is below VALUE as failed in reports (JUnit); the exit code is unchanged",
      scoreRules("--row-threshold"),
      [],
    )
    .option(
      "--reporter <names>",
      "default, json, jsonl, junit, github, markdown; comma-separated (replaces the default)",
      reporters,
      [],
    )
    .option("--outfile <reporter=path>", "write that reporter's output to PATH (repeatable)", outfile, [])
    .option(
      "--baseline-dir <dir>",
      "where committed baselines live (default: __baselines__/ beside each eval file)",
    );
}

/** Row selection and exports: run only. */
export function addSelectionOptions(cmd: Command): Command {
  return cmd
    .option("--first <n>", "run only the first N rows of each eval", positiveInteger)
    .option("--sample <n>", "run a random sample of N rows of each eval (see --seed)", positiveInteger)
    .option(
      "--seed <s>",
      "seed of --sample (default 0): the same seed picks the same rows",
      nonNegativeInteger,
    )
    .option(
      "--shard <i/n>",
      "run shard I of N: rows split by a hash of their row key, for a CI matrix",
      shard,
    )
    .option("--export <dir>", "write each eval's experiment to DIR/<eval>.jsonl (for evalrun merge)");
}

/** The gate options the flags ask for (unset ones keep their defaults). */
export function gateFromFlags(flags: CiFlags): Partial<GateOptions> {
  return {
    ...((flags.ci || flags.failOnRegression) && { failOnRegression: true }),
    ...(flags.maxDrop !== undefined && { maxDrop: flags.maxDrop }),
    ...(flags.confidence !== undefined && { confidence: flags.confidence }),
    ...(flags.requireBaseline && { requireBaseline: true }),
    minScores: flags.minScore,
    rowThresholds: flags.rowThreshold,
  };
}

export function selectionFromFlags(flags: CiFlags): Selection | undefined {
  if (flags.first !== undefined && flags.sample !== undefined) {
    throw new EvalrunError(
      "USAGE",
      "--first and --sample cannot be used together.",
      "--first N runs the first N rows in data order; --sample N a seeded random N. Pick one.",
    );
  }
  if (flags.seed !== undefined && flags.sample === undefined) {
    throw new EvalrunError("USAGE", "--seed only applies to --sample.", "Add --sample N, or drop --seed.");
  }
  if (flags.first === undefined && flags.sample === undefined && flags.shard === undefined) return undefined;
  return { first: flags.first, sample: flags.sample, seed: flags.seed, shard: flags.shard };
}
