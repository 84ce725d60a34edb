import { randomUUID } from "node:crypto";
import os from "node:os";
import type Database from "better-sqlite3";
import { EvalrunError } from "../define/errors.js";
import type { ExperimentSummary } from "../summary/types.js";
import { closestName } from "../util/suggest.js";
import { dropIndex } from "./row-index.js";
import type { Experiment, ExperimentStatus, GitInfo } from "./types.js";

/** An `experiments` row as SQLite returns it (JSON columns as text). */
export interface ExperimentRecord {
  seq: number;
  id: string;
  project: string;
  name: string;
  created: string;
  finished: string | null;
  status: ExperimentStatus;
  source: string;
  git_commit: string | null;
  git_branch: string | null;
  git_dirty: number | null;
  evalrun_version: string;
  file: string | null;
  description: string | null;
  metadata: string;
  tags: string;
  trial_count: number;
  summary: string | null;
  base_experiment_id: string | null;
  owner_pid: number | null;
  owner_host: string | null;
  selection: string | null;
  code: string | null;
  failure: string | null;
}

function fromRecord(r: ExperimentRecord): Experiment {
  return {
    seq: r.seq,
    id: r.id,
    project: r.project,
    name: r.name,
    created: r.created,
    finished: r.finished,
    status: r.status,
    source: r.source,
    git: {
      commit: r.git_commit,
      branch: r.git_branch,
      dirty: r.git_dirty === null ? null : r.git_dirty === 1,
    },
    evalrunVersion: r.evalrun_version,
    file: r.file,
    description: r.description,
    metadata: JSON.parse(r.metadata) as Record<string, unknown>,
    tags: JSON.parse(r.tags) as string[],
    trialCount: r.trial_count,
    summary: r.summary ? (JSON.parse(r.summary) as ExperimentSummary) : null,
    baseExperimentId: r.base_experiment_id,
    selection: r.selection ?? null,
    code: r.code ?? null,
    failure: r.failure ?? null,
  };
}

/**
 * A run a later one can be compared with: one with a row that did not error, or a score. latestFull asks the same
 * in SQL, of the default baseline; `baseline save` asks it of the run it writes (a run whose data gave no rows,
 * saved, made every later run refuse its empty file; one whose rows all errored passed the next run's 0%).
 */
export function comparable(e: Experiment): boolean {
  const m = e.summary?.metrics;
  if (!m?.rows || !m.errors) return true;
  return (
    m.rows.metric > m.errors.metric || Object.values(e.summary?.scores ?? {}).some((s) => s.score !== null)
  );
}

export interface NewExperiment {
  id?: string;
  project: string;
  /** Taken as is when free in the project, else suffixed -2, -3, ... */
  name: string;
  created?: string;
  status?: ExperimentStatus;
  source?: string;
  git: GitInfo;
  evalrunVersion: string;
  file: string | null;
  description: string | null;
  metadata: Record<string, unknown>;
  tags: string[];
  trialCount: number;
  summary?: ExperimentSummary | null;
  finished?: string | null;
  baseExperimentId?: string | null;
  /** The flags that selected the run's rows; absent for a run of every row. */
  selection?: string | null;
  /** A digest of the eval code it runs, when known. */
  code?: string | null;
  /** Why it stopped, when an error stopped it (an imported failed run). */
  failure?: string | null;
}

/** The experiments of one store: naming, creating, finding, listing and finishing them. */
export class Experiments {
  constructor(private readonly db: Database.Database) {}

  /** The default name of a new experiment: `<branch>-<short commit>-<n>` in git, else a UTC timestamp. */
  defaultName(project: string, git: GitInfo, now: Date): string {
    if (git.branch && git.commit) {
      const prefix = `${git.branch}-${git.commit}-`;
      const taken = this.db
        .prepare("SELECT name FROM experiments WHERE project = ? AND substr(name, 1, ?) = ?")
        .all(project, prefix.length, prefix) as Array<{ name: string }>;
      let n = 0;
      for (const { name } of taken) {
        const tail = Number(name.slice(prefix.length));
        if (Number.isInteger(tail) && tail > n) n = tail;
      }
      return `${prefix}${n + 1}`;
    }
    return now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  }

  private uniqueName(project: string, name: string): string {
    const exists = this.db.prepare("SELECT 1 FROM experiments WHERE project = ? AND name = ?");
    if (!exists.get(project, name)) return name;
    for (let n = 2; ; n++) if (!exists.get(project, `${name}-${n}`)) return `${name}-${n}`;
  }

  create(input: NewExperiment): Experiment {
    const insert = this.db.prepare(`
      INSERT INTO experiments (id, project, name, created, finished, status, source, git_commit, git_branch, git_dirty,
        evalrun_version, file, description, metadata, tags, trial_count, summary, base_experiment_id, owner_pid, owner_host,
        selection, code, failure)
      VALUES (@id, @project, @name, @created, @finished, @status, @source, @git_commit, @git_branch, @git_dirty,
        @evalrun_version, @file, @description, @metadata, @tags, @trial_count, @summary, @base_experiment_id, @owner_pid, @owner_host,
        @selection, @code, @failure)`);
    const create = this.db.transaction(() => {
      const status = input.status ?? "running";
      const record = {
        id: input.id ?? randomUUID(),
        project: input.project,
        name: this.uniqueName(input.project, input.name),
        created: input.created ?? new Date().toISOString(),
        finished: input.finished ?? null,
        status,
        source: input.source ?? "run",
        git_commit: input.git.commit,
        git_branch: input.git.branch,
        git_dirty: input.git.dirty === null ? null : input.git.dirty ? 1 : 0,
        evalrun_version: input.evalrunVersion,
        file: input.file,
        description: input.description,
        metadata: JSON.stringify(input.metadata),
        tags: JSON.stringify(input.tags),
        trial_count: input.trialCount,
        summary: input.summary ? JSON.stringify(input.summary) : null,
        base_experiment_id: input.baseExperimentId ?? null,
        owner_pid: status === "running" ? process.pid : null,
        owner_host: status === "running" ? os.hostname() : null,
        selection: input.selection ?? null,
        code: input.code ?? null,
        failure: input.failure ?? null,
      };
      const { lastInsertRowid } = insert.run(record);
      return Number(lastInsertRowid);
    });
    const seq = create.immediate();
    return this.bySeq(seq);
  }

  bySeq(seq: number): Experiment {
    const record = this.db.prepare("SELECT * FROM experiments WHERE seq = ?").get(seq) as
      | ExperimentRecord
      | undefined;
    if (!record) throw new Error(`experiment ${seq} vanished`);
    return fromRecord(record);
  }

  byId(id: string): Experiment | undefined {
    const record = this.db.prepare("SELECT * FROM experiments WHERE id = ?").get(id) as
      | ExperimentRecord
      | undefined;
    return record ? fromRecord(record) : undefined;
  }

  /**
   * Newest first (by when they were created: an imported experiment takes its place in time, not the import's;
   * it used to become the default baseline and outlive the newer runs a prune deleted); one eval's when `project`
   * is given.
   */
  list(project?: string): Experiment[] {
    const records = (
      project === undefined
        ? this.db.prepare("SELECT * FROM experiments ORDER BY created DESC, seq DESC").all()
        : this.db
            .prepare("SELECT * FROM experiments WHERE project = ? ORDER BY created DESC, seq DESC")
            .all(project)
    ) as ExperimentRecord[];
    return records.map(fromRecord);
  }

  /**
   * The newest complete experiment of `project` that ran every row (a default baseline), before `beforeSeq`. One
   * with no row, or whose every row errored and no score has a value (an empty file, a query that returned
   * nothing, a missing key), is passed over: compared with it, a next run's 100% -> 0% had nothing to regress from
   * and passed every gate. Errors counted in rows include scorers': one judge failing on every row (its key
   * missing) leaves the other scores, and the run stays a baseline for them. The same rule as `comparable`.
   */
  latestFull(project: string, beforeSeq?: number): Experiment | undefined {
    const record = this.db
      .prepare(
        `SELECT * FROM experiments WHERE project = ? AND status = 'complete' AND selection IS NULL AND seq < ?
           AND (coalesce(json_extract(summary, '$.metrics.rows.metric'), 1)
                  > coalesce(json_extract(summary, '$.metrics.errors.metric'), 0)
                OR EXISTS (SELECT 1 FROM json_each(summary, '$.scores') AS s
                           WHERE json_extract(s.value, '$.score') IS NOT NULL))
         ORDER BY created DESC, seq DESC LIMIT 1`,
      )
      .get(project, beforeSeq ?? Number.MAX_SAFE_INTEGER) as ExperimentRecord | undefined;
    return record ? fromRecord(record) : undefined;
  }

  /** The newest experiment of `project` with `status`, created before `beforeSeq` when given. */
  latest(project: string, status: ExperimentStatus | undefined, beforeSeq?: number): Experiment | undefined {
    const record = this.db
      .prepare(
        `SELECT * FROM experiments WHERE project = ? AND (? IS NULL OR status = ?) AND seq < ?
         ORDER BY created DESC, seq DESC LIMIT 1`,
      )
      .get(project, status ?? null, status ?? null, beforeSeq ?? Number.MAX_SAFE_INTEGER) as
      | ExperimentRecord
      | undefined;
    return record ? fromRecord(record) : undefined;
  }

  /** Experiments an id, an id prefix (6+ characters) or a name refers to, in one eval or in all. */
  find(ref: string, project?: string): Experiment[] {
    const byId = this.byId(ref);
    if (byId && (project === undefined || byId.project === project)) return [byId];
    const records = this.db
      .prepare(
        `SELECT * FROM experiments WHERE (name = ? OR (length(?) >= 6 AND substr(id, 1, length(?)) = ?))
           AND (? IS NULL OR project = ?) ORDER BY created DESC, seq DESC`,
      )
      .all(ref, ref, ref, ref, project ?? null, project ?? null) as ExperimentRecord[];
    if (records.length > 0 || project !== undefined) return records.map(fromRecord);
    // `EVAL/NAME`, as the ambiguity error lists experiments: eval names may hold "/", so each split is tried.
    for (let at = ref.lastIndexOf("/"); at > 0; at = ref.lastIndexOf("/", at - 1)) {
      const [evalName, name] = [ref.slice(0, at), ref.slice(at + 1)];
      if (name !== "" && this.list(evalName).length > 0) return this.find(name, evalName);
    }
    return [];
  }

  /** Exactly one experiment for `ref`, or an error that lists what it could have meant. */
  resolve(ref: string, project?: string): Experiment {
    const found = this.find(ref, project);
    if (found.length === 1 && found[0]) return found[0];
    if (found.length > 1) {
      const options = found.map((e) => `${e.project}/${e.name} (id ${e.id})`).join(", ");
      throw new EvalrunError(
        "NOT_FOUND",
        `"${ref}" names ${found.length} experiments: ${options}.`,
        "Name one as listed (EVAL/NAME), give --eval NAME, or use the experiment's id (or a unique prefix of it).",
      );
    }
    throw this.notFound(ref, project);
  }

  /**
   * Refuses an eval the user named (`--eval`) that the store has no experiment of: the eval is the mistake (a typo),
   * where "no experiment is named X" and "the store has no experiments yet" sent users away.
   */
  checkEval(project: string | undefined): void {
    if (project === undefined || this.list(project).length > 0) return;
    const evals = [...new Set(this.list().map((e) => e.project))].sort();
    const near = closestName(project, evals);
    throw new EvalrunError(
      "NOT_FOUND",
      `The store has no experiments of eval "${project}" (--eval).${near ? ` Did you mean "${near}"?` : ""}`,
      evals.length > 0
        ? `Its evals: ${evals.join(", ")}.`
        : "The store has no experiments yet: run `evalrun` first.",
    );
  }

  notFound(ref: string, project?: string): EvalrunError {
    // Names repeat across evals (one run names each eval's experiment alike): list each once.
    const names = [...new Set(this.list(project).map((e) => e.name))];
    const near = closestName(ref, names);
    const recent = names.slice(0, 5);
    const where = project ? ` of eval "${project}"` : "";
    return new EvalrunError(
      "NOT_FOUND",
      `No experiment${where} is named or has the id "${ref}".${near ? ` Did you mean "${near}"?` : ""}`,
      recent.length > 0
        ? `Recent experiments${where}: ${recent.join(", ")}. \`evalrun experiments\` lists them all.`
        : "The store has no experiments yet: run `evalrun` first.",
    );
  }

  /** Marks the experiment as run by this process (again), for a resume. */
  /**
   * Takes an interrupted experiment over to resume it; false when another process took it first. One write-locked
   * transaction checks and sets, so two `--resume` at once never both run its missing rows.
   */
  reopen(seq: number): boolean {
    return this.db
      .transaction(() => {
        const taken = this.db
          .prepare(
            // Its failure was the last attempt's: this one may end otherwise (complete, killed).
            "UPDATE experiments SET status = 'running', finished = NULL, failure = NULL, owner_pid = ?, owner_host = ? WHERE seq = ? AND status = 'interrupted'",
          )
          .run(process.pid, os.hostname(), seq);
        if (taken.changes === 0) return false;
        // Its rows are about to change, so what its index says about them would be stale.
        dropIndex(this.db, seq);
        return true;
      })
      .immediate();
  }

  finish(
    seq: number,
    status: ExperimentStatus,
    summary: ExperimentSummary,
    baseExperimentId: string | null,
    failure: string | null = null,
  ): void {
    this.db
      .prepare(
        "UPDATE experiments SET status = ?, summary = ?, finished = ?, base_experiment_id = ?, failure = ?, owner_pid = NULL, owner_host = NULL WHERE seq = ?",
      )
      .run(status, JSON.stringify(summary), new Date().toISOString(), baseExperimentId, failure, seq);
  }

  /** Deletes experiments (and their rows); returns how many went. */
  remove(seqs: number[]): number {
    const results = this.db.prepare("DELETE FROM results WHERE exp = ?");
    const experiment = this.db.prepare("DELETE FROM experiments WHERE seq = ?");
    return this.db.transaction(() => {
      let removed = 0;
      for (const seq of seqs) {
        results.run(seq);
        dropIndex(this.db, seq);
        removed += experiment.run(seq).changes;
      }
      // A running experiment writes rows whose large values its baseline's blobs already hold, without sending them
      // again: collected now, they would be gone for those rows. They are collected by a removal with none running.
      const running = this.db.prepare("SELECT 1 FROM experiments WHERE status = 'running' LIMIT 1").get();
      if (removed > 0 && running === undefined) {
        this.db.exec(`DELETE FROM blobs WHERE hash NOT IN (
          SELECT input_ref FROM results WHERE input_ref IS NOT NULL
          UNION SELECT output_ref FROM results WHERE output_ref IS NOT NULL
          UNION SELECT expected_ref FROM results WHERE expected_ref IS NOT NULL)`);
      }
      return removed;
    })();
  }
}
