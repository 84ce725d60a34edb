/**
 * Score rules: `--min-score` and `--row-threshold` specs, and `thresholds` in `Eval()`. A spec is
 * `[EVAL:][NAME=]VALUE`: VALUE a fraction (0.8) or a percentage (80%); without NAME it covers every score, without
 * EVAL every eval.
 */
export interface ScoreRule {
  eval: string | undefined;
  score: string | undefined;
  value: number;
  /** Where it came from, as the user wrote it: `--min-score support:Factuality=0.8`, `thresholds.Factuality`. */
  source: string;
  origin: "flag" | "eval";
}

/** A fraction in [0, 1], written as 0.8 or 80%; undefined when it is neither. */
export function parseFraction(text: string): number | undefined {
  const trimmed = text.trim();
  const percent = trimmed.endsWith("%");
  const body = percent ? trimmed.slice(0, -1).trim() : trimmed;
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(body)) return undefined;
  const value = percent ? Number(body) / 100 : Number(body);
  return value >= 0 && value <= 1 ? value : undefined;
}

/**
 * Parses one spec; returns the rule or what is wrong with it. The value is after the last `=` and the eval before
 * the last `:` ahead of it (none after a leading `:`); once the run's evals are known, checkRuleEvals takes the
 * longest part before a `:` that names one of them as the eval, so a score name may hold `:`.
 */
export function parseScoreRule(text: string, flag: string): ScoreRule | { problem: string } {
  const eq = text.lastIndexOf("=");
  const head = eq >= 0 ? text.slice(0, eq) : "";
  const valueText = eq >= 0 ? text.slice(eq + 1) : text;
  const example = `e.g. ${flag} Factuality=0.8, ${flag} my-eval:Factuality=80% or ${flag} 0.5`;
  let evalName: string | undefined;
  let score: string | undefined;
  let rest = valueText;
  if (eq >= 0) {
    // A leading ":" says no eval: what follows is a score's whole name, ":" and all (:rubric:helpfulness=0.8).
    const colon = head.startsWith(":") ? 0 : head.lastIndexOf(":");
    evalName = colon > 0 ? head.slice(0, colon) : undefined;
    score = colon >= 0 ? head.slice(colon + 1) : head;
    if (score.trim() === "") return { problem: `"${text}" has no score name before "=" (${example})` };
  } else {
    const colon = text.lastIndexOf(":");
    if (colon >= 0) {
      evalName = text.slice(0, colon);
      rest = text.slice(colon + 1);
    }
  }
  if (evalName !== undefined && evalName.trim() === "") {
    return { problem: `"${text}" has an empty eval name before ":" (${example})` };
  }
  const value = parseFraction(rest);
  if (value === undefined) {
    return {
      problem: `"${text}": the value "${rest}" is not a number between 0 and 1 (or 0% and 100%) (${example})`,
    };
  }
  return {
    eval: evalName?.trim(),
    score: score?.trim(),
    value,
    source: `${flag} ${text}`,
    origin: "flag",
  };
}

/** An eval's `thresholds: { Factuality: 0.8 }` as rules. */
export function evalThresholdRules(
  evalName: string,
  thresholds: Record<string, number> | undefined,
): ScoreRule[] {
  return Object.entries(thresholds ?? {}).map(([score, value]) => ({
    eval: evalName,
    score,
    value,
    source: `thresholds.${score} in Eval("${evalName}")`,
    origin: "eval" as const,
  }));
}

/**
 * The rule that decides one score of one eval. A flag naming the score (EVAL:NAME, then NAME) wins over the eval's
 * own `thresholds`, as every flag wins over the config. A flag naming no score (EVAL:, then bare) is a floor: it
 * applies where nothing names the score, and raises, never lowers, an eval's own threshold (a shared CI script's
 * `--min-score 0.5` must not switch off an eval's stricter `thresholds`).
 */
export function effectiveRule(
  rules: readonly ScoreRule[],
  evalName: string,
  score: string,
): ScoreRule | undefined {
  const flags = rules.filter((r) => r.origin === "flag");
  const pick = (e: boolean, s: boolean) =>
    flags.findLast(
      (r) =>
        (e ? r.eval === evalName : r.eval === undefined) && (s ? r.score === score : r.score === undefined),
    );
  const named = pick(true, true) ?? pick(false, true);
  if (named) return named;
  const floor = pick(true, false) ?? pick(false, false);
  const own = rules.find((r) => r.origin === "eval" && r.eval === evalName && r.score === score);
  if (floor && own) return own.value >= floor.value ? own : floor;
  return floor ?? own;
}

/** Rules that name a score of this eval explicitly (so a missing score is an error, not a silent pass). */
export function namedRules(rules: readonly ScoreRule[], evalName: string): ScoreRule[] {
  return rules.filter((r) => r.score !== undefined && r.eval === evalName);
}
