/**
 * Braintrust's tracing API, as pass-throughs: evalrun records no spans, but an eval file ported by changing its
 * import still calls `wrapOpenAI(client)`, `traced(fn)` and `currentSpan().log(...)` on its way to the task's
 * output. Each runs the user's code unchanged and records nothing, except what a row's own span is given as
 * metadata (see rowSpan), which becomes the row's metadata as `hooks.meta` would make it.
 */

/** The fields Braintrust's `span.log()` takes; evalrun keeps only a row span's `metadata`. */
export interface SpanEvent {
  input?: unknown;
  output?: unknown;
  expected?: unknown;
  metadata?: Record<string, unknown>;
  scores?: Record<string, number | null>;
  metrics?: Record<string, unknown>;
  tags?: string[];
  error?: unknown;
  [key: string]: unknown;
}

/** Braintrust's Span, as far as eval code uses it. */
export interface Span {
  readonly kind: "span";
  readonly id: string;
  readonly spanId: string;
  readonly rootSpanId: string;
  log(event: SpanEvent): void;
  logFeedback(event: Record<string, unknown>): void;
  traced<R>(callback: (span: Span) => R, args?: unknown): R;
  startSpan(args?: unknown): Span;
  setAttributes(args: unknown): void;
  end(args?: unknown): number;
  close(args?: unknown): number;
  export(): Promise<string>;
  permalink(): Promise<string>;
  link(): string;
  flush(): Promise<void>;
}

class PassThroughSpan implements Span {
  readonly kind = "span";
  readonly id = "";
  readonly spanId = "";
  readonly rootSpanId = "";

  constructor(private readonly onMetadata?: (metadata: Record<string, unknown>) => void) {}

  log(event: SpanEvent): void {
    const metadata = event?.metadata;
    if (this.onMetadata && typeof metadata === "object" && metadata !== null) this.onMetadata(metadata);
  }

  logFeedback(): void {}

  traced<R>(callback: (span: Span) => R): R {
    return callback(NOOP_SPAN);
  }

  startSpan(): Span {
    return NOOP_SPAN;
  }

  setAttributes(): void {}

  end(): number {
    return Date.now() / 1000;
  }

  close(): number {
    return this.end();
  }

  async export(): Promise<string> {
    return "";
  }

  async permalink(): Promise<string> {
    return "";
  }

  link(): string {
    return "";
  }

  async flush(): Promise<void> {}
}

/** A span that records nothing (Braintrust's NOOP_SPAN). */
export const NOOP_SPAN: Span = new PassThroughSpan();

/** A row's span (`hooks.span`): what it is given as `metadata` merges into the row's metadata. */
export function rowSpan(onMetadata: (metadata: Record<string, unknown>) => void): Span {
  return new PassThroughSpan(onMetadata);
}

/** Braintrust's `currentSpan()`: a span that records nothing. */
export function currentSpan(): Span {
  return NOOP_SPAN;
}

/** Braintrust's `startSpan()`: a span that records nothing. */
export function startSpan(_args?: unknown): Span {
  return NOOP_SPAN;
}

/** Braintrust's `traced(fn)`: calls `fn` with a span that records nothing, and returns what it returns. */
export function traced<R>(callback: (span: Span) => R, _args?: unknown): R {
  return callback(NOOP_SPAN);
}

/** Braintrust's `wrapTraced(fn)`: `fn` itself. */
export function wrapTraced<F extends (...args: never[]) => unknown>(fn: F, _args?: unknown): F {
  return fn;
}

/** Braintrust's synonym of `wrapTraced`, for code ported from LangSmith's `traceable`. */
export const traceable = wrapTraced;

/** Braintrust's `withCurrent(span, fn)`: calls `fn` with the span. */
export function withCurrent<R>(span: Span, callback: (span: Span) => R, _state?: unknown): R {
  return callback(span);
}

/** Braintrust's `updateSpan({ exported, ... })`: spans record nothing here. */
export function updateSpan(_event: { exported: string; [key: string]: unknown }): void {}

/** Braintrust's `logError(span, error)`: spans record nothing here. */
export function logError(_span: Span, _error: unknown): void {}

/** Braintrust's `currentLogger()`: the logger whose logs go nowhere. */
export function currentLogger(_options?: unknown): Logger {
  return LOGGER;
}

/** Braintrust's span arguments: accepted, and unused. */
export type StartSpanArgs = Record<string, unknown>;

/** Braintrust's `wrapOpenAI(client)`: the client itself (its calls are not traced). */
export function wrapOpenAI<T>(client: T): T {
  return client;
}

/** Braintrust's `wrapAnthropic(client)`: the client itself. */
export function wrapAnthropic<T>(client: T): T {
  return client;
}

/** Braintrust's `wrapAISDK(ai)` / `wrapAISDKModel(model)`: the argument itself. */
export function wrapAISDK<T>(ai: T): T {
  return ai;
}

export function wrapAISDKModel<T>(model: T): T {
  return model;
}

/** Braintrust's logger, as `initLogger()` returns it: logs go nowhere. */
export interface Logger {
  log(event: SpanEvent): string;
  logFeedback(event: Record<string, unknown>): void;
  traced<R>(callback: (span: Span) => R, args?: unknown): R;
  startSpan(args?: unknown): Span;
  flush(): Promise<void>;
}

const LOGGER: Logger = {
  log: () => "",
  logFeedback: () => undefined,
  traced: (callback) => callback(NOOP_SPAN),
  startSpan: () => NOOP_SPAN,
  flush: async () => undefined,
};

/** Braintrust's `initLogger()`: a logger whose logs go nowhere (evalrun keeps results, not production logs). */
export function initLogger(_options?: unknown): Logger {
  return LOGGER;
}

/** Braintrust's `flush()`: nothing is buffered. */
export async function flush(): Promise<void> {}

/**
 * Braintrust's `defaultErrorScoreHandler`, for `errorScoreHandler`: each score a failed row could not get is 0, so
 * that errored rows count as failures in the means.
 */
export function defaultErrorScoreHandler(args: { unhandledScores: string[] }): Record<string, number> {
  return Object.fromEntries(args.unhandledScores.map((name) => [name, 0]));
}
