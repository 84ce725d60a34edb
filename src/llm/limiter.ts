/**
 * Caps the calls in flight to one provider. A call holds its slot through its retry waits, so a throttled
 * provider sees fewer new requests while it recovers rather than a fresh wave from rows that were queued.
 */
export class Limiter {
  private active = 0;
  private readonly queue: Array<{ grant: () => void }> = [];

  constructor(public max: number) {}

  get inFlight(): number {
    return this.active;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Waits for a slot; a call whose signal aborts while queued leaves the queue and rejects with the reason. */
  acquire(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const entry = {
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          this.active++;
          resolve();
        },
      };
      const onAbort = () => {
        const index = this.queue.indexOf(entry);
        if (index >= 0) this.queue.splice(index, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.queue.push(entry);
    });
  }

  release(): void {
    this.active--;
    // A raised max (init() called again) lets more than one waiter through.
    while (this.active < this.max && this.queue.length > 0) this.queue.shift()?.grant();
  }
}

const limiters = new Map<string, Limiter>();

/** The limiter of one provider (by base URL) in this thread, with its cap set to the current setting. */
export function limiterFor(baseUrl: string, max: number): Limiter {
  let limiter = limiters.get(baseUrl);
  if (limiter === undefined) {
    limiter = new Limiter(max);
    limiters.set(baseUrl, limiter);
  } else {
    limiter.max = max;
  }
  return limiter;
}
