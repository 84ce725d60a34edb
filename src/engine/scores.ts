import { describeValue } from "../define/errors.js";

export interface NormalizedScore {
  name: string;
  score: number | null;
  metadata?: Record<string, unknown> | undefined;
}

export type Normalized = { ok: true; scores: NormalizedScore[] } | { ok: false; error: string };

const ACCEPTED =
  "a score must be a finite number in [0, 1], a boolean, null or undefined (not scored), a { name?, score } object, or an array of them";

/** The name a scorer's bare number is recorded under: the function's name, else `scorer_<index>`. */
export function scorerName(scorer: { name: string }, index: number): string {
  const name = scorer.name.replace(/^bound /, "").trim();
  return name === "" ? `scorer_${index}` : name;
}

function checkNumber(value: unknown): string | undefined {
  if (typeof value !== "number") return describeValue(value);
  if (!Number.isFinite(value) || value < 0 || value > 1) return Number.isNaN(value) ? "NaN" : String(value);
  return undefined;
}

/**
 * A `{ name, score }` object, read as Braintrust reads it: no name is the scorer's name, a boolean score is 1 or
 * 0, and an undefined score is not scored (null).
 */
function fromObject(value: object, name: string, where: string): NormalizedScore | string {
  const v = value as { name?: unknown; score?: unknown; metadata?: unknown };
  if (v.name !== undefined && (typeof v.name !== "string" || v.name === "")) {
    return `Scorer "${name}" returned ${where}an object whose \`name\` is ${describeValue(v.name)}, not a non-empty string; ${ACCEPTED}.`;
  }
  const scoreName = (v.name as string | undefined) ?? name;
  if (scoreName === "__proto__") {
    return `Scorer "${name}" returned ${where}a score named "__proto__", which an object cannot hold as a key of its own; give it another name.`;
  }
  let score: number | null;
  if (v.score === null || v.score === undefined) score = null;
  else if (typeof v.score === "boolean") score = v.score ? 1 : 0;
  else {
    const bad = checkNumber(v.score);
    if (bad !== undefined)
      return `Scorer "${name}" returned ${where}score "${scoreName}" = ${bad}; a score's \`score\` must be a finite number in [0, 1], a boolean, or null (not scored).`;
    score = v.score as number;
  }
  const metadata =
    typeof v.metadata === "object" && v.metadata !== null
      ? (v.metadata as Record<string, unknown>)
      : undefined;
  return { name: scoreName, score, metadata };
}

/** Turns whatever a scorer returned into named scores, or one error message naming the scorer and the value. */
export function normalizeScore(value: unknown, name: string): Normalized {
  // undefined (a bare `return;`) is not scored, as in Braintrust.
  if (value === null || value === undefined) return { ok: true, scores: [{ name, score: null }] };
  if (typeof value === "boolean") return { ok: true, scores: [{ name, score: value ? 1 : 0 }] };
  if (typeof value === "number") {
    const bad = checkNumber(value);
    if (bad !== undefined) return { ok: false, error: `Scorer "${name}" returned ${bad}; ${ACCEPTED}.` };
    return { ok: true, scores: [{ name, score: value }] };
  }
  if (Array.isArray(value)) {
    const scores: NormalizedScore[] = [];
    for (const [i, item] of value.entries()) {
      if (typeof item !== "object" || item === null || Array.isArray(item)) {
        return {
          ok: false,
          error: `Scorer "${name}" returned an array whose item ${i} is ${describeValue(item)}, not a { name, score } object.`,
        };
      }
      const score = fromObject(item, name, `in item ${i} `);
      if (typeof score === "string") return { ok: false, error: score };
      scores.push(score);
    }
    return { ok: true, scores };
  }
  if (typeof value === "object") {
    const score = fromObject(value, name, "");
    return typeof score === "string" ? { ok: false, error: score } : { ok: true, scores: [score] };
  }
  return { ok: false, error: `Scorer "${name}" returned ${describeValue(value)}; ${ACCEPTED}.` };
}
