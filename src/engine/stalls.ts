/**
 * Tells evals when the process has nothing left to wait for while they still wait: Node's `beforeExit`, which it
 * emits when the event loop is empty. A promise pending then can never settle (nothing is left to settle it), and
 * without this, Node would end the process with exit code 13 and no word: no summary, the rows in flight lost.
 */
export class Stalls {
  private readonly listeners = new Set<() => void>();

  on(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells every eval waiting; false when none is (the process may end). */
  fire(): boolean {
    if (this.listeners.size === 0) return false;
    for (const listener of [...this.listeners]) listener();
    return true;
  }

  /** Listens on `beforeExit` until the returned function is called. */
  watchProcess(): () => void {
    const onBeforeExit = () => this.fire();
    process.on("beforeExit", onBeforeExit);
    return () => process.off("beforeExit", onBeforeExit);
  }
}
