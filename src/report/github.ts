import { appendFileSync } from "node:fs";
import path from "node:path";
import type { Writable } from "node:stream";
import type { EvalInfo, RowResult } from "../engine/types.js";
import { evalLine } from "../util/source-line.js";
import { renderMarkdown } from "./markdown.js";
import type { EvalOutcome, Reporter, RunResult } from "./reporter.js";
import { printable } from "./safe-text.js";

/**
 * Workflow-command escaping: the message part, then properties (which also cannot hold `:` or `,`); control
 * characters from eval text are shown as `\u0007`, as in the terminal.
 */
const escapeData = (text: string) =>
  printable(text).replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
const escapeProperty = (text: string) => escapeData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");

/** GitHub shows 10 error annotations per step and drops the rest without a word. */
const MAX_ANNOTATIONS = 10;

interface Annotation {
  file?: string | undefined;
  line?: number | undefined;
  col?: number | undefined;
  title: string;
  message: string;
  /** "error" unless said: a warning is shown yellow and does not read as a failure. */
  level?: "error" | "warning" | undefined;
}

/** At most MAX_ANNOTATIONS, the last saying how many more problems there are and where they are listed. */
function capped(annotations: Annotation[]): Annotation[] {
  if (annotations.length <= MAX_ANNOTATIONS) return annotations;
  const more = annotations.length - (MAX_ANNOTATIONS - 1);
  return [
    ...annotations.slice(0, MAX_ANNOTATIONS - 1),
    {
      title: `evalrun: ${more} more problems`,
      message: `${more} more problems are not annotated (GitHub shows ${MAX_ANNOTATIONS} error annotations per step): this step's log and the job summary list them all.`,
    },
  ];
}

/**
 * GitHub Actions: `::error` annotations (file and line) for failed gates, errored evals and eval files that did
 * not load, and the markdown summary appended to the file `$GITHUB_STEP_SUMMARY` names.
 */
export class GithubReporter implements Reporter {
  constructor(
    private readonly o: {
      /** Where workflow commands go: stdout, unless another reporter's output owns it. */
      annotations: Writable;
      cwd: string;
      env: NodeJS.ProcessEnv;
      /** Where a job summary that cannot be written is said (stderr). */
      err?: Writable;
    },
  ) {}

  /** Set once the job summary could not be written: said once, then left alone. */
  private summaryFailed = false;
  /** Each eval's first errored row's message, cut: what its errors annotation quotes. */
  private readonly firstErrors = new Map<string, string>();

  onRow(ev: EvalInfo, row: RowResult): void {
    if (this.firstErrors.has(ev.name)) return;
    const message = row.error?.message ?? Object.values(row.score_errors ?? {})[0];
    if (message !== undefined)
      this.firstErrors.set(ev.name, message.length > 500 ? `${message.slice(0, 500)}…` : message);
  }

  /**
   * Appends to the job summary. A path that cannot be written (a runner exporting a host path a container job
   * does not see, `act`, a read-only mount) must cost the summary only, not the run's verdict: it is said once on
   * stderr and the run keeps its exit code. No directory is made: the runner reads only the file it made.
   */
  private appendSummary(text: string): void {
    const file = this.o.env.GITHUB_STEP_SUMMARY;
    if (!file || this.summaryFailed) return;
    try {
      appendFileSync(file, text);
    } catch (error) {
      this.summaryFailed = true;
      const e = error as NodeJS.ErrnoException;
      (this.o.err ?? process.stderr).write(
        `evalrun: cannot write the job summary to $GITHUB_STEP_SUMMARY (${file}): ${e.code ?? "error"}: ${e.message.replace(/^[A-Z]+: /, "")}; the run goes on without it.\n`,
      );
    }
  }

  /** Checks the job summary before anything runs (appending nothing), so a bad path is said up front. */
  onRunStart(): void {
    this.appendSummary("");
  }

  /** Paths relative to the workspace, as GitHub resolves annotation files. */
  private file(file: string | undefined): string | undefined {
    if (!file) return undefined;
    const base = this.o.env.GITHUB_WORKSPACE || this.o.cwd;
    const relative = path.relative(base, file);
    return relative.startsWith("..") ? file : relative.split(path.sep).join("/");
  }

  private annotationsOf(e: EvalOutcome): Annotation[] {
    const at = {
      file: this.file(e.info.file),
      line: e.info.file ? evalLine(e.info.file, e.info.name) : undefined,
    };
    const out: Annotation[] = [];
    for (const check of e.gate?.checks ?? []) {
      if (check.status === "pass") continue;
      const title = `evalrun: ${e.info.name}${check.score ? ` ${check.score}` : ""} ${check.status === "error" ? "gate misconfigured" : check.kind}`;
      out.push({ ...at, title, message: `${check.message}${check.hint ? `\n${check.hint}` : ""}` });
    }
    if (e.failure)
      out.push({ ...at, title: `evalrun: ${e.info.name} ${e.failure.code}`, message: e.failure.message });
    const errors = e.summary.metrics.errors.metric;
    if (errors > 0) {
      // What the PR page shows: the first error's text, not only a count (a missing key on a fork's PR).
      const first = this.firstErrors.get(e.info.name);
      out.push({
        ...at,
        title: `evalrun: ${e.info.name} errors`,
        message: `${errors} of ${e.summary.metrics.rows.metric} results errored${e.errorsTolerated ? " (within --max-error-rate)" : ""}${first ? `; the first: ${first}` : ""}`,
        // Tolerated, they do not fail the run: a red annotation on a green check would say it did.
        ...(e.errorsTolerated && { level: "warning" as const }),
      });
    }
    return out;
  }

  onRunEnd(result: RunResult): void {
    const annotations: Annotation[] = result.problems.map((p) => ({
      file: this.file(p.file),
      line: p.line,
      col: p.column,
      title: `evalrun: ${p.code}`,
      message: `${p.message}${p.hint ? `\n${p.hint}` : ""}`,
    }));
    const ofEvals = result.evals.flatMap((e) => this.annotationsOf(e));
    // Before the evals': with more than the cap, what made the exit code 2 must not be the part left out. One an
    // eval's gate check already says (at its Eval() line) is not said twice: each costs one of the ten shown.
    for (const error of result.gateErrors ?? []) {
      if (ofEvals.some((a) => a.message.startsWith(error.message))) continue;
      annotations.push({
        title: "evalrun: gate misconfigured",
        message: `${error.message}\n${error.hint ?? ""}`,
      });
    }
    if (result.escapedErrors)
      annotations.push({
        title: "evalrun: errors escaped the eval code",
        message: `${result.escapedErrors} error(s) escaped the eval code (a throw in a timer, a promise nobody awaited): the run failed; this step's log shows where.`,
      });
    annotations.push(...ofEvals);
    for (const a of capped(annotations)) {
      const props = [
        a.file !== undefined && `file=${escapeProperty(a.file)}`,
        a.line !== undefined && `line=${a.line}`,
        a.col !== undefined && `col=${a.col}`,
        `title=${escapeProperty(a.title)}`,
      ].filter(Boolean);
      this.o.annotations.write(`::${a.level ?? "error"} ${props.join(",")}::${escapeData(a.message)}\n`);
    }
    if (this.o.env.GITHUB_STEP_SUMMARY) this.appendSummary(renderMarkdown(result, this.o.cwd));
  }
}
