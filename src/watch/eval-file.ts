import path from "node:path";
import type { BuildContext } from "esbuild";
import { compileContext } from "../loader/bundle-cache.js";
import {
  buildOptions,
  type CompiledFile,
  compileFailure,
  emitBundle,
  rememberCompiled,
} from "../loader/compile.js";
import type { Problem } from "../loader/problems.js";
import { compileProblem } from "../runner/prepare.js";
import { ReadContent } from "./read-content.js";

type Context = BuildContext<ReturnType<typeof buildOptions>>;

const inPackage = (file: string) => file.split(path.sep).includes("node_modules");

/**
 * One eval file of a watch session: an incremental esbuild context (a rebuild re-reads only what changed), its
 * last good bundle, and what it depends on. Code dependencies come from the build's metafile; data files from
 * evalrun's loaders while the file loads or its data is read.
 */
export class EvalFile {
  private context: Promise<Context> | undefined;
  bundle: CompiledFile | undefined;
  /** The file, the local modules it imports, and the files that change how it compiles (tsconfig, package.json). */
  codeDeps: Set<string>;
  /** Files read through loadJsonl, loadJson or loadCsv. */
  dataDeps = new Set<string>();
  /** Why its evals cannot run now (a compile or load error); cleared by a good build and load. */
  problems: Problem[] = [];
  /** The evals it defined when it last loaded. */
  evals: string[] = [];
  /** Loads begun: a load that finishes after a later one began is stale. */
  loads = 0;
  /** What its last build and data reads saw of each file (see ReadContent). */
  readonly read = new ReadContent();

  constructor(readonly path: string) {
    this.codeDeps = new Set([path]);
  }

  /**
   * Rebuilds the bundle; on a compile error the problem is kept and the file waits for the next change. A build
   * that read files not stamped before it (the first, or one that reached a new import) is done once more with
   * them stamped, so that what it read is known (ReadContent) and a later save that changes none of it is told.
   */
  async build(cwd: string): Promise<void> {
    const esbuild = await import("esbuild");
    this.context ??= esbuild.context(buildOptions(this.path));
    for (let attempt = 0; attempt < 2; attempt++) {
      const before = await ReadContent.stamps(this.codeDeps);
      let result: Awaited<ReturnType<Context["rebuild"]>>;
      try {
        result = await (await this.context).rebuild();
      } catch (error) {
        this.read.clear();
        const failure = compileFailure(this.path, error);
        if (!failure) {
          this.context = undefined;
          throw error;
        }
        this.bundle = undefined;
        const problem = compileProblem(failure, cwd);
        problem.hint = "Fix it and save: the file compiles and runs again; the other evals keep running.";
        this.problems = [problem];
        // The file at fault may be one the last good build never reached.
        for (const m of failure.errors) if (m.file && !inPackage(m.file)) this.codeDeps.add(m.file);
        return;
      }
      this.bundle = await emitBundle(this.path, result);
      this.codeDeps = new Set([
        this.path,
        ...this.bundle.inputs.filter((file) => !inPackage(file)),
        ...compileContext(this.path, this.bundle.inputs),
      ]);
      this.problems = [];
      await this.read.afterBuild(before, this.codeDeps);
      if ([...this.codeDeps].every((file) => before.has(file))) break;
    }
    // So that the next plain `evalrun` reuses this bundle; off the path to the first row.
    if (this.bundle) void rememberCompiled(this.bundle).catch(() => {});
  }

  async dispose(): Promise<void> {
    const context = this.context;
    this.context = undefined;
    await context?.then((c) => c.dispose()).catch(() => {});
  }
}
