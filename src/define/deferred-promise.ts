/**
 * A promise whose work starts at its first `then` (which `await`, `catch`, `finally`, `Promise.all` and the rest
 * call): still a Promise to `instanceof` and `util.types.isPromise`. Its derived promises are plain ones. The
 * native `Promise.prototype.then.call(p)` skips the override, so the work never starts (README says so).
 */
export class DeferredPromise<T> extends Promise<T> {
  static override get [Symbol.species]() {
    return Promise;
  }

  private start: (() => void) | undefined;

  constructor(start: (resolve: (value: T) => void, reject: (reason: unknown) => void) => void) {
    let settle: { resolve: (value: T) => void; reject: (reason: unknown) => void } | undefined;
    super((resolve, reject) => {
      settle = { resolve, reject };
    });
    const { resolve, reject } = settle as NonNullable<typeof settle>;
    this.start = () => start(resolve, reject);
  }

  // biome-ignore lint/suspicious/noThenProperty: the point of the class: the work starts at the first then
  override then<A = T, B = never>(
    onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    const start = this.start;
    this.start = undefined;
    start?.();
    return super.then(onFulfilled, onRejected);
  }
}
