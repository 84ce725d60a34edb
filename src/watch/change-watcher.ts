import { type FSWatcher, statSync, watch } from "node:fs";
import path from "node:path";

export interface ChangeWatcherOptions {
  /** Quiet time after the last event before the batch is handed over. */
  quietMs: number;
  /** A batch is handed over at the latest this long after its first event, even while events keep coming. */
  maxWaitMs: number;
  onBatch(paths: Set<string>): void;
  onWarning(text: string): void;
}

interface Watched {
  watcher: FSWatcher;
  /** The directory's inode: a directory deleted and made again needs a new watch. */
  ino: number;
}

/**
 * Watches directories, one `fs.watch` each (recursive watching is not dependable on Linux in Node 20), and hands
 * over the paths that changed in them, debounced so that a save that fires several events runs once. Directories,
 * not files: an editor that saves by writing a temporary file and renaming it over the old one replaces the
 * inode a file watch holds.
 */
export class ChangeWatcher {
  private readonly watched = new Map<string, Watched>();
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private firstAt = 0;
  private closed = false;
  private warned = false;

  constructor(private readonly o: ChangeWatcherOptions) {}

  get size(): number {
    return this.watched.size;
  }

  /** Watches exactly these directories from now on (a missing one is left to its parent's watch). */
  setDirectories(dirs: Iterable<string>, recheck = false): void {
    const wanted = new Set(dirs);
    for (const [dir, w] of this.watched) {
      if (wanted.has(dir) && !(recheck && inode(dir) !== w.ino)) continue;
      w.watcher.close();
      this.watched.delete(dir);
    }
    for (const dir of wanted) if (!this.watched.has(dir)) this.add(dir);
  }

  private add(dir: string): void {
    const ino = inode(dir);
    if (ino === undefined) return;
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, { persistent: true }, (_event, name) => {
        this.event(name ? path.join(dir, name.toString()) : dir);
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR" && !this.warned) {
        this.warned = true;
        this.o.onWarning(
          `Could not watch ${dir} (${code ?? (error as Error).message}); changes there go unnoticed.` +
            (code === "ENOSPC" ? " Raise fs.inotify.max_user_watches, or watch fewer directories." : ""),
        );
      }
      return;
    }
    watcher.on("error", () => {
      // The directory went away (or became unreadable): say so as a change, so the session looks again.
      watcher.close();
      if (this.watched.get(dir)?.watcher === watcher) this.watched.delete(dir);
      this.event(dir);
    });
    this.watched.set(dir, { watcher, ino });
  }

  private event(file: string): void {
    if (this.closed) return;
    this.pending.add(file);
    const now = performance.now();
    if (this.timer === undefined) this.firstAt = now;
    else clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.o.quietMs, this.firstAt + this.o.maxWaitMs - now));
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = undefined;
    const batch = this.pending;
    this.pending = new Set();
    if (batch.size > 0 && !this.closed) this.o.onBatch(batch);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const w of this.watched.values()) w.watcher.close();
    this.watched.clear();
  }
}

function inode(dir: string): number | undefined {
  try {
    const info = statSync(dir);
    return info.isDirectory() ? info.ino : undefined;
  } catch {
    return undefined;
  }
}
