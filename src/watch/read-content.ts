import { createHash } from "node:crypto";
import { open } from "node:fs/promises";

/** Past this size a file is not read to compare: a save of it counts as a change (its run costs more anyway). */
const MAX_COMPARED = 16 * 1024 * 1024;

const digestOfBytes = (bytes: Uint8Array): string => createHash("sha1").update(bytes).digest("hex");

/** A file's content digest and modification time; undefined when it cannot be compared (gone, a directory, huge). */
export async function fileStamp(file: string): Promise<{ digest: string; mtime: number } | undefined> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, "r");
    const info = await handle.stat();
    if (!info.isFile() || info.size > MAX_COMPARED) return undefined;
    return { digest: digestOfBytes(await handle.readFile()), mtime: info.mtimeMs };
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}

/**
 * What an eval file's last build and last data reads saw of each file they read, by content digest, so that a
 * save that changed nothing (an editor saving an unmodified buffer, a formatter leaving a file as it was) re-runs
 * nothing: with LLM tasks, a re-run costs money. Only what was read counts, never what a save event found: a file
 * read while being rewritten, or changed while its directory was not watched, must still count as changed when it
 * is saved back to content an event saw before. Code is stamped before and after its build, and kept only when
 * both agree (the build read that content): every eval of the file runs that build. Data files are not compared:
 * the evals of one file read them at different times (one eval's data, a task, `f` re-running some evals), and a
 * read credited to the file would hide a save from the evals that read the file before it.
 */
export class ReadContent {
  private readonly digests = new Map<string, string>();

  get(file: string): string | undefined {
    return this.digests.get(file);
  }

  set(file: string, digest: string | undefined): void {
    if (digest === undefined) this.digests.delete(file);
    else this.digests.set(file, digest);
  }

  /** Everything read is unknown again: the next save of any of it counts as a change. */
  clear(): void {
    this.digests.clear();
  }

  /** Before a build: the stamps of the files it is expected to read. */
  static async stamps(files: Iterable<string>): Promise<Map<string, { digest: string; mtime: number }>> {
    const list = [...new Set(files)];
    const stamps = await Promise.all(list.map((file) => fileStamp(file)));
    const out = new Map<string, { digest: string; mtime: number }>();
    for (const [i, file] of list.entries()) {
      const stamp = stamps[i];
      if (stamp) out.set(file, stamp);
    }
    return out;
  }

  /** After a build: keeps each file stamped alike before and after it (what it read); forgets the others. */
  async afterBuild(
    before: Map<string, { digest: string; mtime: number }>,
    files: Iterable<string>,
  ): Promise<void> {
    const after = await ReadContent.stamps(files);
    for (const file of new Set(files)) {
      const b = before.get(file);
      const a = after.get(file);
      this.set(file, b && a && b.digest === a.digest && b.mtime === a.mtime ? a.digest : undefined);
    }
  }
}
