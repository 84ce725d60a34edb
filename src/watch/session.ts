import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { setDependencyListener } from "../define/dependencies.js";
import { type EvalrunError, isEvalrunError } from "../define/errors.js";
import { getRegistry } from "../define/registry.js";
import type { EvalDefinition } from "../define/types.js";
import { discoverEvalFiles } from "../loader/discover.js";
import { loadedEnvFile } from "../loader/env-file.js";
import { loadEvalFiles, SLOW_LOAD_MS } from "../loader/load.js";
import type { Problem } from "../loader/problems.js";
import { plural, shownPath } from "../report/format.js";
import type { RunEvalsOptions } from "../runner/options.js";
import { type Rerun, type RunSettings, runSettings } from "../runner/prepare.js";
import { isBaselineFileRef } from "../store/baseline-file.js";
import { Experiments } from "../store/experiments.js";
import { closeStore, openStore } from "../store/open.js";
import type { GitInfo } from "../store/types.js";
import { gitInfo } from "../util/git.js";
import { ChangeWatcher } from "./change-watcher.js";
import { ConfigFiles } from "./config-files.js";
import { EvalFile } from "./eval-file.js";
import { EvalRuns, interruptedBy, sum } from "./eval-runs.js";
import { fileStamp } from "./read-content.js";
import type { ScreenState } from "./screen-view.js";
import { couldBeEvalFile, existingAncestor, searchDirectories } from "./search-dirs.js";
import type { EvalState } from "./state.js";
import type { WatchView } from "./views.js";

export interface WatchSessionOptions {
  /** The run's options, as the flags gave them. */
  options: RunEvalsOptions;
  view: WatchView;
  verbose: boolean;
  /** Quiet time that ends a burst of file events (default 30 ms). */
  quietMs?: number;
}

interface Work {
  changed: Set<string>;
  /** r was pressed. */
  all: boolean;
  /** f was pressed. */
  failing: boolean;
}

const noWork = (): Work => ({ changed: new Set(), all: false, failing: false });
const isEmpty = (work: Work) => !work.all && !work.failing && work.changed.size === 0;

/** Problems that end a session before it starts: flags cannot change while it runs. */
const FATAL_AT_START = new Set(["USAGE", "PATH_NOT_FOUND"]);

const INTERRUPTED_BY_CHANGE = interruptedBy("a change arrived");

/** A path whose appearance could satisfy a failed import: a module or JSON file, not an editor's swap file. */
const SOURCE_LIKE = /^[^.~#][^~#]*\.(?:[cm]?[jt]sx?|json)$/;

/**
 * `evalrun --watch`: keeps an incremental build per eval file and the files each depends on (its imports, from
 * the build's metafile; data files read through evalrun's loaders; the config), and on every debounced change
 * re-runs exactly the evals that depend on a changed file, each in its own run so that one can be restarted
 * without touching the others. Changes are handled one batch at a time; runs go on in the background.
 */
export class WatchSession {
  private settings: RunSettings | undefined;
  private configProblem: Problem | undefined;
  private git: GitInfo = { commit: null, branch: null, dirty: null };
  private readonly files = new Map<string, EvalFile>();
  /** By eval name, kept across reloads so that "vs previous" survives a rename back, a config restart. */
  private readonly evals = new Map<string, EvalState>();
  private readonly runs: EvalRuns;
  private readonly config: ConfigFiles;
  private searchDirs = new Set<string>();
  private readonly watcher: ChangeWatcher;
  private queue = noWork();
  private pumping: Promise<void> | undefined;
  private loading: Promise<unknown> = Promise.resolve();
  private stopping = false;
  private idleShown = false;
  private depsGrew = false;
  private readonly view: WatchView;
  private readonly cwd: string;

  constructor(private readonly o: WatchSessionOptions) {
    this.view = o.view;
    this.cwd = path.resolve(o.options.cwd ?? process.cwd());
    this.config = new ConfigFiles(this.cwd, o.options.config);
    this.runs = new EvalRuns({
      cwd: this.cwd,
      verbose: o.verbose,
      baseline: o.options.baseline,
      view: this.view,
      git: () => this.git,
      onEnd: () => this.runEnded(),
    });
    this.watcher = new ChangeWatcher({
      quietMs: o.quietMs ?? 30,
      maxWaitMs: 300,
      onBatch: (changed) => this.enqueue({ changed }),
      onWarning: (text) => this.view.note(text),
    });
  }

  /** Loads the config, finds, builds and runs every eval; throws only for flags that cannot work (exit 2). */
  async start(): Promise<void> {
    setDependencyListener((file) => this.noteDataFile(file));
    this.git = await gitInfo(this.cwd);
    let fatal: unknown;
    // Changes that arrive meanwhile wait in the queue, as they do behind any other batch.
    this.pumping = this.restart(true)
      .catch((error: unknown) => {
        fatal = error;
      })
      .finally(() => {
        this.pumping = undefined;
        if (fatal === undefined) this.kick();
      });
    await this.pumping;
    if (fatal !== undefined) throw fatal;
  }

  rerunAll(): void {
    this.enqueue({ all: true });
  }

  rerunFailing(): void {
    this.enqueue({ failing: true });
  }

  /** Stops every run (stored as interrupted), the watcher and esbuild. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.watcher.close();
    const stopped = this.runs.abortAll("stopped: quitting");
    // A cycle in progress starts no run now; one stuck in an eval file's top-level await is not waited for.
    await Promise.race([this.pumping, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    await stopped;
    await Promise.all([...this.files.values()].map((file) => file.dispose()));
    setDependencyListener(undefined);
    await (await import("esbuild")).stop();
  }

  /** What a terminal screen shows. */
  snapshot(): ScreenState {
    const problems = [...this.files.values()].flatMap((f) => f.problems);
    if (this.configProblem) problems.unshift(this.configProblem);
    const order = [...this.files.keys()];
    const evals = [...this.evals.values()]
      .filter((e) => e.active)
      .sort((a, b) => order.indexOf(a.file) - order.indexOf(b.file) || a.name.localeCompare(b.name));
    return { evals, problems, busy: this.pumping !== undefined || this.runs.size > 0 };
  }

  private enqueue(work: Partial<Work>): void {
    if (this.stopping) return;
    for (const file of work.changed ?? []) this.queue.changed.add(file);
    this.queue.all ||= work.all === true;
    this.queue.failing ||= work.failing === true;
    this.kick();
  }

  private kick(): void {
    if (this.pumping || this.stopping) {
      this.checkIdle();
      return;
    }
    if (isEmpty(this.queue)) {
      this.checkIdle();
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      this.kick();
    });
  }

  private async pump(): Promise<void> {
    while (!this.stopping) {
      const work = this.queue;
      this.queue = noWork();
      if (isEmpty(work)) return;
      try {
        await this.process(work);
      } catch (error) {
        // A bug in evalrun must not end the session the user is working in; say it and keep watching.
        this.view.note(
          `evalrun hit an internal error (please report it): ${(error as Error).stack ?? error}`,
        );
      }
    }
  }

  private async process(work: Work): Promise<void> {
    for (const file of work.changed) if (this.isStoreFile(file)) work.changed.delete(file);
    const touchesConfig = (files: Iterable<string>) => this.config.touched(files, this.settings?.loaded);
    const config = [...work.changed].filter((f) => touchesConfig([f]));
    // A broken config is tried again on r or a change where it lives; a good one restarts on a change to it.
    if (config.length > 0 || (!this.settings && work.all)) {
      this.announce(config.length > 0 ? `${this.list(config)} changed: restarting` : "r: restarting");
      await this.restart(false);
      return;
    }
    if (!this.settings) return;
    if (work.all) {
      this.announce("r: re-running every eval");
      const all = [...this.files.values()];
      for (const file of all)
        for (const name of file.evals) this.runs.abort(name, interruptedBy("r was pressed"));
      await this.reload(all, new Set(all));
    } else if (work.changed.size > 0) {
      await this.onChanges(work.changed);
    }
    if (work.failing) await this.runFailing();
  }

  private async onChanges(changed: Set<string>): Promise<void> {
    const rediscovered = this.mayChangeDiscovery(changed);
    const added = rediscovered ? await this.rediscover() : [];
    const targets: EvalFile[] = [];
    const rebuild = new Set<EvalFile>(added);
    const causes = new Set<string>();
    // Saved files each eval file read as they are now: their saves changed nothing it saw.
    const digests = new Map<string, Promise<string | undefined>>();
    const now = (f: string) => {
      let digest = digests.get(f);
      if (!digest) {
        digest = fileStamp(f).then((stamp) => stamp?.digest);
        digests.set(f, digest);
      }
      return digest;
    };
    const same = new Set<string>();
    const moved = new Set<string>();
    for (const file of this.files.values()) {
      // A file whose evals cannot run as they should (a compile, load or data error) runs again on any save, which
      // may be how its user retries something outside evalrun (a server that was down).
      const trusted = file.problems.length === 0 && !file.evals.some((name) => this.evals.get(name)?.failure);
      const seen = async (f: string) => {
        const read = trusted ? file.read.get(f) : undefined;
        const unchanged = read !== undefined && read === (await now(f));
        (unchanged ? same : moved).add(f);
        return !unchanged;
      };
      const hits = (which: "code" | "data") =>
        [...changed].filter((f) => (which === "code" ? file.codeDeps : file.dataDeps).has(f));
      const codeHits = hits("code");
      const dataHits = hits("data");
      const code = (await Promise.all(codeHits.map(seen))).includes(true);
      const data = dataHits.length > 0;
      const retry = this.needsRetry(file, changed);
      if (!code && !data && !retry && !rebuild.has(file)) continue;
      targets.push(file);
      if (code || retry) rebuild.add(file);
      for (const f of codeHits) if (moved.has(f)) causes.add(f);
      for (const f of dataHits) causes.add(f);
    }
    if (targets.length === 0) {
      const unchanged = [...same].filter((f) => !moved.has(f));
      if (unchanged.length > 0)
        this.announce(`${this.list(unchanged)} saved without changes: nothing re-run (r re-runs every eval)`);
      // A new directory may hold no eval file yet; it is watched from now on all the same.
      if (rediscovered) await this.watchDirectories(true);
      return;
    }
    const what = added.map((f) => `${this.list([f.path])} was added`);
    if (causes.size > 0) what.unshift(`${this.list([...causes])} changed`);
    if (what.length === 0) what.push("a file it may need appeared");
    this.announce(`${what.join("; ")}: re-running ${this.evalNames(targets)}`);
    for (const file of targets) for (const name of file.evals) this.runs.abort(name, INTERRUPTED_BY_CHANGE);
    await this.reload(targets, rebuild);
    await this.watchDirectories(rediscovered);
  }

  /** `f`: each eval's results that errored or scored below 1 in its last run run again; the others are kept. */
  private async runFailing(): Promise<void> {
    const picks = new Map<string, Rerun>();
    const busy: string[] = [];
    for (const ev of this.evals.values()) {
      const last = ev.last;
      if (!ev.active || !last?.experimentId || last.failing.size === 0) continue;
      // Running (after a change): its last result's passing rows are of code that has since changed, and would be
      // mixed with the new code's re-run of the failing ones. `f` applies to the result it is about to have.
      if (ev.running !== undefined) {
        busy.push(ev.name);
        continue;
      }
      picks.set(ev.name, { from: last.experimentId, pairs: last.failing });
    }
    if (busy.length > 0)
      this.announce(
        `f: ${busy.join(", ")} ${busy.length === 1 ? "is" : "are"} running; press f again once done`,
      );
    if (picks.size === 0) {
      if (busy.length > 0) return;
      this.announce("f: nothing to re-run (no result errored or scored below 1 in the last runs)");
      return;
    }
    const counts = [...picks].map(([name, r]) => `${name} (${sum(r.pairs)})`);
    this.announce(`f: re-running the failing results of ${counts.join(", ")}`);
    const targets = [...this.files.values()].filter((f) => f.evals.some((name) => picks.has(name)));
    for (const name of picks.keys()) this.runs.abort(name, interruptedBy("f was pressed"));
    await this.reload(targets, new Set(), (name) => picks.get(name) ?? false);
  }

  /** Everything again: config, discovery, builds. The evals' history (previous results, baselines) stays. */
  private async restart(startup: boolean): Promise<void> {
    await this.runs.abortAll("interrupted: restarting");
    await Promise.all([...this.files.values()].map((file) => file.dispose()));
    this.files.clear();
    try {
      this.settings = await runSettings(this.o.options);
      this.configProblem = undefined;
    } catch (error) {
      if (!isEvalrunError(error) || (startup && FATAL_AT_START.has(error.code))) throw error;
      this.settings = undefined;
      // A malformed .env is that file's problem, not the config's (or the project directory's).
      const where = error.code === "ENV_FILE" ? loadedEnvFile() : undefined;
      this.configProblem = this.problemOf(error, where ?? this.config.file() ?? this.cwd);
      this.view.problem(this.configProblem);
      await this.watchDirectories(true);
      return;
    }
    if (startup) this.checkBaseline(this.settings.store);
    let found: string[];
    try {
      found = await this.discover();
    } catch (error) {
      if (!isEvalrunError(error) || startup) throw error;
      this.configProblem = this.problemOf(error, this.config.file() ?? this.cwd);
      this.view.problem(this.configProblem);
      found = [];
    }
    for (const file of found) this.files.set(file, new EvalFile(file));
    const known = new Set(found);
    for (const ev of this.evals.values())
      if (ev.active && !known.has(ev.file)) this.deactivate(ev, "is gone");
    await this.watchDirectories(true);
    if (found.length === 0) {
      this.view.note(
        `No eval files found in ${this.settings.paths.join(", ")} yet; watching for *.eval.ts files to appear.`,
      );
      return;
    }
    this.announce(`watching ${plural(found.length, "eval file")}: running every eval`);
    const all = [...this.files.values()];
    await this.reload(all, new Set(all));
    await this.watchDirectories(false);
  }

  /**
   * --baseline NAME that names no experiment at all is refused, as a plain run refuses it (exit 2): the session ran
   * every eval without one, where a plain run would have said so and stopped. A name some evals lack is per eval.
   */
  private checkBaseline(location: string | false): void {
    const ref = this.o.options.baseline;
    if (ref === undefined || isBaselineFileRef(ref)) return;
    const store = openStore(location, { create: false });
    try {
      const experiments = new Experiments(store.db);
      if (experiments.find(ref).length === 0) throw experiments.notFound(ref);
    } finally {
      closeStore(store);
    }
  }

  /**
   * Builds the files that changed (together: esbuild works on them in parallel), then loads each in turn and
   * starts its evals' runs as soon as it has loaded. `pick` says which evals run and how (watch mode's `f`).
   */
  private async reload(
    targets: EvalFile[],
    rebuild: Set<EvalFile>,
    pick?: (name: string) => Rerun | false,
  ): Promise<void> {
    const settings = this.settings;
    if (!settings) return;
    const builds = targets.map((file) =>
      (rebuild.has(file) || !file.bundle ? file.build(settings.cwd) : Promise.resolve()).then(
        () => undefined,
        (error: unknown) => error,
      ),
    );
    for (const [i, file] of targets.entries()) {
      const failed = await builds[i];
      if (failed !== undefined) {
        this.view.note(
          `evalrun hit an internal error building ${file.path}: ${(failed as Error).stack ?? failed}`,
        );
        continue;
      }
      if (this.stopping || this.files.get(file.path) !== file) continue;
      if (!file.bundle) {
        for (const problem of file.problems) this.view.problem(problem);
        continue;
      }
      const loading = this.load(file);
      const definitions = await within(loading, SLOW_LOAD_MS);
      if (definitions === undefined) {
        // A top-level await (a dataset fetched, or a promise that never settles) must not hold up the other files:
        // they load meanwhile, and this one's evals start once it has loaded, unless it has been loaded anew since.
        this.view.note(
          `${shownPath(file.path, this.cwd)} is still loading after ${SLOW_LOAD_MS / 1000} s: its top-level code awaits something. The other files go on; its evals run once it has loaded.`,
        );
        const generation = file.loads;
        void loading.then((late) => {
          if (this.stopping || this.files.get(file.path) !== file || file.loads !== generation) return;
          this.startLoaded(file, late, pick);
          this.kick();
        });
        continue;
      }
      this.startLoaded(file, definitions, pick);
    }
  }

  private startLoaded(
    file: EvalFile,
    definitions: EvalDefinition[],
    pick?: (name: string) => Rerun | false,
  ): void {
    for (const problem of file.problems) this.view.problem(problem);
    for (const definition of definitions) {
      const rerun = pick?.(definition.name);
      if (rerun !== false) this.startRun(file, definition, rerun);
    }
  }

  /** Imports the file's bundle afresh (one load at a time: the registry attributes evals to the file loading). */
  private load(file: EvalFile): Promise<EvalDefinition[]> {
    const generation = ++file.loads;
    const loaded = this.loading.then(async () => {
      const bundle = file.bundle;
      if (!bundle) return [];
      file.dataDeps = new Set();
      const { definitions, problems, notices } = await loadEvalFiles([bundle]);
      // Loaded anew while this load waited on its top-level await: the newer load's outcome stands.
      if (file.loads !== generation) return [];
      for (const notice of notices) this.view.note(notice);
      const mine: EvalDefinition[] = [];
      for (const definition of definitions) {
        const other = [...this.files.values()].find((f) => f !== file && f.evals.includes(definition.name));
        if (!other) {
          mine.push(definition);
          continue;
        }
        problems.push({
          code: "DUPLICATE_EVAL",
          file: file.path,
          message: `Two evals are named "${definition.name}": in ${shownPath(other.path, this.cwd)} and in ${shownPath(file.path, this.cwd)}. The one in ${shownPath(file.path, this.cwd)} does not run.`,
          hint: "Give each eval a unique name; the name identifies its experiments and baselines.",
        });
      }
      file.problems = problems;
      // A file that threw while loading keeps its evals (shown with the problem) until it loads again.
      if (mine.length === 0 && problems.some((p) => p.code === "LOAD")) return [];
      const names = new Set(mine.map((d) => d.name));
      for (const name of file.evals) {
        const ev = this.evals.get(name);
        if (!names.has(name) && ev)
          this.deactivate(ev, `is no longer defined in ${shownPath(file.path, this.cwd)}`);
      }
      file.evals = [...names];
      for (const definition of mine) this.activate(definition.name, file.path);
      return mine;
    });
    this.loading = within(loaded, SLOW_LOAD_MS).catch(() => undefined);
    return loaded;
  }

  private activate(name: string, file: string): void {
    const ev = this.evals.get(name);
    if (ev) {
      ev.active = true;
      ev.file = file;
      return;
    }
    this.evals.set(name, {
      name,
      file,
      active: true,
      running: undefined,
      last: undefined,
      previous: undefined,
      base: undefined,
      failure: undefined,
    });
  }

  private deactivate(ev: EvalState, why: string): void {
    this.runs.abort(ev.name, "stopped: its eval is gone");
    ev.active = false;
    this.view.removed(ev.name, why);
  }

  private startRun(file: EvalFile, definition: EvalDefinition, rerun: Rerun | undefined): void {
    const settings = this.settings;
    const state = this.evals.get(definition.name);
    if (this.stopping || !settings || !state) return;
    this.runs.start({ file: file.path, definition, state, settings, rerun });
  }

  /** A run ended: watch the data files it read for the first time, and say so when nothing else runs. */
  private runEnded(): void {
    if (this.depsGrew) {
      this.depsGrew = false;
      void this.watchDirectories(false);
    }
    this.view.refresh();
    this.checkIdle();
  }

  private checkIdle(): void {
    if (!isEmpty(this.queue)) return;
    if (this.stopping || this.pumping || this.runs.size > 0) return;
    if (this.idleShown) {
      // A round that ran nothing (an event of a file no eval uses) drew "running" while it was looked at.
      this.view.refresh();
      return;
    }
    this.idleShown = true;
    this.view.idle();
    // The branch and commit go on the experiments; read them again while idle, off the path to the next first row.
    void gitInfo(this.settings?.root ?? this.cwd).then((git) => {
      this.git = git;
    });
  }

  private announce(text: string): void {
    this.idleShown = false;
    this.view.trigger(text);
  }

  private noteDataFile(file: string): void {
    const owner = this.runs.readingDataOf() ?? getRegistry().currentFile;
    const entry = owner ? this.files.get(owner) : undefined;
    if (!entry || entry.dataDeps.has(file)) return;
    entry.dataDeps.add(file);
    this.depsGrew = true;
  }

  private async discover(): Promise<string[]> {
    const settings = this.settings;
    if (!settings) return [];
    const exclude = settings.loaded.config.exclude;
    const [found, dirs] = await Promise.all([
      discoverEvalFiles(settings.paths, { base: settings.base, exclude }),
      searchDirectories(settings.paths, settings.base, exclude),
    ]);
    this.searchDirs = dirs;
    return found;
  }

  /** Looks for eval files again: drops those that are gone and returns the new ones. */
  private async rediscover(): Promise<EvalFile[]> {
    let found: string[];
    try {
      found = await this.discover();
    } catch (error) {
      if (!isEvalrunError(error)) throw error;
      this.view.problem(this.problemOf(error, this.config.file() ?? this.cwd));
      return [];
    }
    const now = new Set(found);
    for (const [file, entry] of this.files) {
      if (now.has(file)) continue;
      this.files.delete(file);
      this.announce(`${this.list([file])} was removed`);
      for (const name of entry.evals) {
        const ev = this.evals.get(name);
        if (ev) this.deactivate(ev, `is gone: ${shownPath(file, this.cwd)} was removed`);
      }
      void entry.dispose();
    }
    const added: EvalFile[] = [];
    for (const file of found) {
      if (this.files.has(file)) continue;
      const entry = new EvalFile(file);
      this.files.set(file, entry);
      added.push(entry);
    }
    return added;
  }

  /** A change that may add or remove an eval file: an unknown file that could be one, a directory, a deletion. */
  private mayChangeDiscovery(changed: Set<string>): boolean {
    const paths = this.settings?.paths ?? [];
    for (const file of changed) {
      if (this.files.has(file)) {
        if (!existsSync(file)) return true;
        continue;
      }
      if (this.isDependency(file)) continue;
      if (couldBeEvalFile(file, paths)) return true;
      if (this.searchDirs.has(file)) return true;
      try {
        if (statSync(file).isDirectory()) return true;
      } catch {
        // gone already: a deleted file that was nothing to us
      }
    }
    return false;
  }

  /**
   * A file that did not compile may be fixed by a file it could not find appearing; one that lost a name clash
   * may run once the other file changes. Both are tried again on changes that no other file depends on.
   */
  private needsRetry(file: EvalFile, changed: Set<string>): boolean {
    if (file.problems.some((p) => p.code === "DUPLICATE_EVAL")) return true;
    if (!file.problems.some((p) => p.code === "COMPILE")) return false;
    for (const f of changed) if (SOURCE_LIKE.test(path.basename(f)) && !this.isDependency(f)) return true;
    return false;
  }

  private isDependency(file: string): boolean {
    for (const entry of this.files.values())
      if (entry.codeDeps.has(file) || entry.dataDeps.has(file)) return true;
    return false;
  }

  private isStoreFile(file: string): boolean {
    const store = this.settings?.store;
    return typeof store === "string" && (file === store || file.startsWith(`${store}-`));
  }

  /** The directories to watch: where eval files are looked for, where the config is, and every dependency's. */
  private async watchDirectories(recheck: boolean): Promise<void> {
    const dirs = new Set([...this.searchDirs, ...this.config.dirs()]);
    for (const file of this.config.inputs(this.settings?.loaded)) dirs.add(path.dirname(file));
    for (const entry of this.files.values())
      for (const dep of [...entry.codeDeps, ...entry.dataDeps]) dirs.add(path.dirname(dep));
    const existing = new Set<string>();
    for (const dir of dirs) existing.add(existingAncestor(dir));
    this.watcher.setDirectories(existing, recheck);
  }

  private problemOf(error: EvalrunError, file: string): Problem {
    return { code: error.code, file, message: error.message, hint: error.hint };
  }

  private list(files: string[]): string {
    const shown = files.map((f) => shownPath(f, this.cwd));
    return shown.length > 3
      ? `${shown.slice(0, 3).join(", ")} and ${shown.length - 3} more`
      : shown.join(", ");
  }

  private evalNames(files: EvalFile[]): string {
    return files.flatMap((f) => (f.evals.length > 0 ? f.evals : [shownPath(f.path, this.cwd)])).join(", ");
  }
}

/** The promise's value if it settles within `ms`, else undefined (the promise goes on). */
function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
