const CLONEABLE = new Set<unknown>([
  Object.prototype,
  Array.prototype,
  Date.prototype,
  RegExp.prototype,
  Map.prototype,
  Set.prototype,
  ArrayBuffer.prototype,
  DataView.prototype,
  Boolean.prototype,
  Number.prototype,
  String.prototype,
  null,
]);

// The typed arrays themselves: a subclass of one (Node's Buffer) arrives in a thread as the plain array, without
// its methods (buffer.toString("base64") then gave "80,78,71,...").
for (const typed of [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
])
  CLONEABLE.add(typed.prototype);

/**
 * Errors arrive as one of these with their message, stack and cause only: a subclass (an HttpError) as a plain
 * Error, and own fields (`status`), a changed name or an AggregateError's `errors` not at all.
 */
const ERRORS = new Set<unknown>(
  [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError].map(
    (type) => type.prototype,
  ),
);
const ERROR_FIELDS = new Set(["stack", "message", "cause"]);

function isCloneableObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  if (CLONEABLE.has(proto)) return true;
  return (
    ERRORS.has(proto) &&
    Reflect.ownKeys(value).every((key) => typeof key === "string" && ERROR_FIELDS.has(key))
  );
}

/**
 * Why `value` cannot go to a worker thread as it is, naming the field: a function, a symbol, or an object of a
 * class (structured cloning would keep its data and drop its methods, so the task would see something else).
 * Looks a few levels deep and at the first entries of large collections; undefined when it can go.
 */
export function cloneProblem(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === "function") return `${path} is a function`;
  if (typeof value === "symbol") return `${path} is a symbol`;
  if (typeof value !== "object" || value === null || depth > 6) return undefined;
  if (!isCloneableObject(value)) {
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? "a class";
    if (value instanceof Error && ERRORS.has(Object.getPrototypeOf(value))) {
      const own = Reflect.ownKeys(value)
        .filter((key) => typeof key !== "string" || !ERROR_FIELDS.has(key))
        .map(String);
      return `${path} is ${/^[AEIOU]/.test(name) ? "an" : "a"} ${name} with fields of its own (${own.join(", ")})`;
    }
    return `${path} is an instance of ${name}`;
  }
  if (value instanceof Error)
    return cloneProblem((value as { cause?: unknown }).cause, `${path}.cause`, depth + 1);
  if (value instanceof Map) {
    let n = 0;
    for (const [k, v] of value) {
      if (n++ > 50) break;
      const problem =
        cloneProblem(k, `${path} (a key)`, depth + 1) ??
        cloneProblem(v, `${path}.get(${String(k)})`, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  if (value instanceof Set) {
    let n = 0;
    for (const v of value) {
      if (n++ > 50) break;
      const problem = cloneProblem(v, `${path} (an entry)`, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  if (ArrayBuffer.isView(value) || value instanceof Date || value instanceof RegExp) return undefined;
  let n = 0;
  for (const key of Object.keys(value)) {
    if (n++ > 200) break;
    const child = (value as Record<string, unknown>)[key];
    const problem = cloneProblem(
      child,
      Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`,
      depth + 1,
    );
    if (problem) return problem;
  }
  return undefined;
}
