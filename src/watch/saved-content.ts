import { createHash } from "node:crypto";
import { open, stat } from "node:fs/promises";
import path from "node:path";

/** Past this size a file is not read to compare: a save of it counts as a change (its run costs more anyway). */
const MAX_COMPARED = 16 * 1024 * 1024;

async function mtimeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).mtimeMs;
  } catch {
    return undefined;
  }
}

async function digestOf(file: string): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, "r");
    const { size, isFile } = await handle.stat().then((s) => ({ size: s.size, isFile: s.isFile() }));
    if (!isFile || size > MAX_COMPARED) return undefined;
    return createHash("sha1")
      .update(await handle.readFile())
      .digest("hex");
  } catch {
    // Gone, a directory, unreadable: not comparable, so a change.
    return undefined;
  } finally {
    await handle?.close();
  }
}

/**
 * What each watched file held when evalrun last acted on a save of it, so that a save that changed nothing (an
 * editor saving an unmodified buffer, a formatter leaving a file as it was) re-runs nothing: with LLM tasks, a
 * re-run costs money. A file's content is remembered when a save of it is acted on (every eval depending on it is
 * then rebuilt and reads it anew), and after the round that builds every eval (start-up, a config change) for the
 * files unmodified since before it began. Remembering a file after some other build could hide its pending save
 * from the evals that build did not include. What is remembered holds only while the file's directory is watched
 * without a break: a save made while it was not went unseen, and a later save back to the remembered content
 * must still count as a change.
 */
export class SavedContent {
  private readonly digests = new Map<string, string>();

  /** The files whose content differs from what was remembered (or is not known); their new content is remembered. */
  async changed(files: Iterable<string>): Promise<Set<string>> {
    const changed = new Set<string>();
    await Promise.all(
      [...files].map(async (file) => {
        const digest = await digestOf(file);
        if (digest !== undefined && this.digests.get(file) === digest) return;
        changed.add(file);
        if (digest === undefined) this.digests.delete(file);
        else this.digests.set(file, digest);
      }),
    );
    return changed;
  }

  /** Forgets the files directly in `dir` (a directory whose watch stopped or started). */
  forgetIn(dir: string): void {
    for (const file of this.digests.keys()) if (path.dirname(file) === dir) this.digests.delete(file);
  }

  /**
   * After a round that built every eval, begun at `roundStart` (epoch ms): remembers the files not modified since
   * well before it (mtimes may be as coarse as 2 s), which every eval's build therefore read as they are now.
   */
  async rememberBuilt(files: Iterable<string>, roundStart: number): Promise<void> {
    await Promise.all(
      [...new Set(files)].map(async (file) => {
        if (this.digests.has(file)) return;
        const before = await mtimeOf(file);
        if (before === undefined || before >= roundStart - 2_000) return;
        const digest = await digestOf(file);
        if (digest !== undefined && (await mtimeOf(file)) === before) this.digests.set(file, digest);
      }),
    );
  }
}
