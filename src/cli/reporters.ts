import path from "node:path";
import { EvalrunError } from "../define/errors.js";
import type { ScoreRule } from "../gate/thresholds.js";
import { colorsFor } from "../report/colors.js";
import { checkWritable, type Destination, emit, MemoryStream } from "../report/destination.js";
import { shownPath } from "../report/format.js";
import { GithubReporter } from "../report/github.js";
import { JsonReporter } from "../report/json.js";
import { JsonlReporter } from "../report/jsonl.js";
import { JunitReporter } from "../report/junit.js";
import { MarkdownReporter } from "../report/markdown.js";
import type { Reporter } from "../report/reporter.js";
import { StderrVerdictReporter } from "../report/stderr-verdict.js";
import { stdoutStream } from "../report/stdout.js";
import { TerminalReporter } from "../report/terminal.js";
import { closestName } from "../util/suggest.js";
import type { CiFlags } from "./ci-options.js";

export const REPORTER_NAMES = ["default", "json", "jsonl", "junit", "github", "markdown"] as const;
export type ReporterName = (typeof REPORTER_NAMES)[number];

/** Where a machine-readable report goes when stdout is taken and no --outfile says: `.evalrun/<file>`. */
const FALLBACK_FILES: Partial<Record<ReporterName, string>> = {
  json: "results.json",
  jsonl: "summaries.jsonl",
  junit: "junit.xml",
  markdown: "summary.md",
};

export interface PlannedReporter {
  name: ReporterName;
  dest: Destination;
}

export interface ReporterPlan {
  reporters: PlannedReporter[];
  /** GitHub's workflow commands go to stdout unless another machine-readable report owns it. */
  annotationsOnStdout: boolean;
  /** A machine-readable report owns stdout: nothing else may be written there (report/stdout.ts). */
  machineOnStdout: boolean;
}

/**
 * The reporters asked for: --reporter, else those of --ci, else the terminal; and --jsonl's, which replaces the
 * terminal's (it owns stdout) but not --ci's files.
 */
function names(flags: CiFlags & { jsonl?: boolean }, env: NodeJS.ProcessEnv): ReporterName[] {
  let wanted = flags.reporter.filter((n) => n !== "");
  if (wanted.length === 0) {
    const human = flags.jsonl ? [] : ["default"];
    wanted = flags.ci ? [...human, "junit", ...(env.GITHUB_ACTIONS === "true" ? ["github"] : [])] : human;
  }
  if (flags.jsonl) wanted = ["jsonl", ...wanted.filter((n) => n !== "jsonl")];
  for (const name of wanted) {
    if (!(REPORTER_NAMES as readonly string[]).includes(name)) {
      const near = closestName(name, REPORTER_NAMES);
      throw new EvalrunError(
        "USAGE",
        `--reporter "${name}" is not a reporter.${near ? ` Did you mean "${near}"?` : ""}`,
        `Reporters: ${REPORTER_NAMES.join(", ")}; give several comma-separated, e.g. --reporter default,junit.`,
      );
    }
  }
  return [...new Set(wanted)] as ReporterName[];
}

/**
 * Decides each reporter's destination and checks, before anything runs, that it can be written: an --outfile
 * (`-` is stdout); else the terminal summary and then the first machine-readable report share out stdout, and a
 * report left without it goes to `.evalrun/` in the project root (said when written). Two reports cannot both
 * be asked onto stdout.
 */
export function planReporters(
  flags: CiFlags & { jsonl?: boolean },
  ctx: { cwd: string; root: string; env: NodeJS.ProcessEnv },
): ReporterPlan {
  const chosen = names(flags, ctx.env);
  const outfiles = new Map<string, string>();
  for (const o of flags.outfile) {
    if (!chosen.includes(o.reporter as ReporterName)) {
      throw new EvalrunError(
        "USAGE",
        `--outfile ${o.reporter}=${o.path}: "${o.reporter}" is not among this run's reporters (${chosen.join(", ")}).`,
        `Add it: --reporter ${[...chosen, o.reporter].join(",")}.`,
      );
    }
    if (o.reporter === "github") {
      throw new EvalrunError(
        "USAGE",
        "--outfile github=...: the github reporter writes where GitHub Actions says ($GITHUB_STEP_SUMMARY, and annotations to the log).",
        "For a markdown summary in a file of your choosing, use --reporter markdown --outfile markdown=PATH.",
      );
    }
    outfiles.set(o.reporter, o.path);
  }
  // --jsonl is `--reporter jsonl` on stdout.
  if (flags.jsonl && !outfiles.has("jsonl")) outfiles.set("jsonl", "-");
  const stdoutClaims = chosen.filter((n) => outfiles.get(n) === "-" || (n === "default" && !outfiles.has(n)));
  if (stdoutClaims.length > 1) {
    throw new EvalrunError(
      "USAGE",
      `Reporters ${stdoutClaims.join(" and ")} would both write to stdout.`,
      `Send one to a file, e.g. --outfile ${stdoutClaims.find((n) => n !== "default") ?? stdoutClaims[1]}=report.out.`,
    );
  }
  let stdoutTaken = stdoutClaims.length > 0;
  let machineOnStdout = stdoutClaims.some((n) => n !== "default");
  const reporters: PlannedReporter[] = [];
  for (const name of chosen) {
    const given = outfiles.get(name);
    let dest: Destination;
    if (given === "-" || (name === "default" && given === undefined)) dest = { kind: "stdout" };
    else if (given !== undefined) {
      const file = path.resolve(ctx.cwd, given);
      dest = { kind: "file", path: file, shown: shownPath(file, ctx.cwd) };
    } else if (name === "github") dest = { kind: "stdout" };
    else if (!stdoutTaken) {
      dest = { kind: "stdout" };
      stdoutTaken = true;
      machineOnStdout = true;
    } else {
      const file = path.join(ctx.root, ".evalrun", FALLBACK_FILES[name] as string);
      dest = { kind: "file", path: file, shown: shownPath(file, ctx.cwd) };
    }
    checkWritable(dest, given !== undefined ? `--outfile ${name}=${given}` : `The ${name} report`);
    reporters.push({ name, dest });
  }
  return { reporters, annotationsOnStdout: !machineOnStdout, machineOnStdout };
}

/** Writes a buffered report to its file when the run ends. */
function flushAtEnd(stream: MemoryStream, dest: Destination, written: (shown: string) => void): Reporter {
  return {
    onRunEnd() {
      emit(dest, stream.text());
      if (dest.kind === "file") written(dest.shown);
    },
  };
}

/** The reporters of a plan; the terminal one comes from `terminal()` (it owns progress bars and colours). */
export async function createReporters(
  plan: ReporterPlan,
  ctx: {
    cwd: string;
    verbose: boolean;
    env: NodeJS.ProcessEnv;
    rowRules: readonly ScoreRule[];
    terminal: () => Promise<Reporter>;
  },
): Promise<Reporter[]> {
  const errColors = colorsFor(process.stderr);
  const written = (name: string) => (shown: string) =>
    process.stderr.write(`${errColors.dim(`evalrun: ${name} report written to ${shown}`)}\n`);
  const machine: Reporter[] = [];
  let last: Reporter | undefined;
  const has = (n: ReporterName) => plan.reporters.some((r) => r.name === n);
  for (const { name, dest } of plan.reporters) {
    switch (name) {
      case "default":
        if (dest.kind === "stdout") last = await ctx.terminal();
        else {
          const out = new MemoryStream();
          const plain = colorsFor({ isTTY: false });
          machine.push(
            new TerminalReporter({
              out,
              err: process.stderr,
              cwd: ctx.cwd,
              colors: plain,
              verbose: ctx.verbose,
            }),
          );
          machine.push(flushAtEnd(out, dest, written(name)));
        }
        break;
      case "jsonl": {
        const common = { err: process.stderr, cwd: ctx.cwd, colors: errColors, verbose: ctx.verbose };
        if (dest.kind === "stdout") machine.push(new JsonlReporter({ ...common, out: stdoutStream() }));
        else {
          const out = new MemoryStream();
          machine.push(new JsonlReporter({ ...common, out }), flushAtEnd(out, dest, written(name)));
        }
        break;
      }
      case "json": {
        machine.push(new JsonReporter({ dest, cwd: ctx.cwd, onWritten: written(name) }));
        break;
      }
      case "junit": {
        machine.push(
          new JunitReporter({ dest, cwd: ctx.cwd, rowRules: ctx.rowRules, onWritten: written(name) }),
        );
        break;
      }
      case "markdown": {
        machine.push(new MarkdownReporter({ dest, cwd: ctx.cwd, onWritten: written(name) }));
        break;
      }
      case "github": {
        // Asked for by name away from GitHub Actions (trying it locally): its summary would go nowhere, silently.
        if (!ctx.env.GITHUB_STEP_SUMMARY) {
          process.stderr.write(
            "evalrun: the github reporter writes its summary to $GITHUB_STEP_SUMMARY, which is not set (not on GitHub Actions?): only its annotations are written; --reporter markdown writes the same summary to a file.\n",
          );
        }
        machine.push(
          new GithubReporter({
            annotations: plan.annotationsOnStdout ? process.stdout : process.stderr,
            cwd: ctx.cwd,
            env: ctx.env,
          }),
        );
        break;
      }
    }
  }
  // Without a terminal summary on stdout, the log still has to say why a run failed (--jsonl alone keeps its
  // promise of nothing but problems on stderr).
  const terminalOnStdout = plan.reporters.some((r) => r.name === "default" && r.dest.kind === "stdout");
  const jsonlAlone = plan.reporters.length === 1 && has("jsonl");
  if (!terminalOnStdout && !jsonlAlone) {
    last = new StderrVerdictReporter({
      err: process.stderr,
      cwd: ctx.cwd,
      colors: errColors,
      verbose: ctx.verbose,
      problems: !has("jsonl") && !has("default"),
    });
  }
  // The terminal's closing lines come last, after the files it may mention are written.
  return last ? [...machine, last] : machine;
}
