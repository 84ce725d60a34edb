import { describeValue } from "../define/errors.js";

export interface NormalizedScore {
  name: string;
  score: number | null;
  metadata?: Record<string, unknown> | undefined;
}

export type Normalized = { ok: true; scores: NormalizedScore[] } | { ok: false; error: string };

const ACCEPTED =
  "a score must be a finite number in [0, 1], a boolean, null (not scored), a { name, score } object, or an array of them";

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

function fromObject(value: object, name: string, where: string): NormalizedScore | string {
  const v = value as { name?: unknown; score?: unknown; metadata?: unknown };
  if (typeof v.name !== "string" || v.name === "") {
    return `Scorer "${name}" returned ${where}an object without a string \`name\`; ${ACCEPTED}.`;
  }
  if (v.name === "__proto__") {
    return `Scorer "${name}" returned ${where}a score named "__proto__", which an object cannot hold as a key of its own; give it another name.`;
  }
  if (v.score !== null) {
    const bad = checkNumber(v.score);
    if (bad !== undefined)
      return `Scorer "${name}" returned ${where}score "${v.name}" = ${bad}; ${ACCEPTED}.`;
  }
  const metadata =
    typeof v.metadata === "object" && v.metadata !== null
      ? (v.metadata as Record<string, unknown>)
      : undefined;
  return { name: v.name, score: v.score as number | null, metadata };
}

/** Turns whatever a scorer returned into named scores, or one error message naming the scorer and the value. */
export function normalizeScore(value: unknown, name: string): Normalized {
  if (value === null) return { ok: true, scores: [{ name, score: null }] };
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
  const hint = value === undefined ? " (return null to leave a row unscored)" : "";
  return { ok: false, error: `Scorer "${name}" returned ${describeValue(value)}${hint}; ${ACCEPTED}.` };
}
