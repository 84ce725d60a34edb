import { hash } from "node:crypto";
import { EvalrunError } from "../define/errors.js";
import type { EvalCase, EvalDefinition } from "../define/types.js";
import { checkRow, isThenable, iteratorResult, openData } from "../engine/data.js";
import { matchesFilters, type RowFilter } from "../engine/filters.js";
import { type RunPlan, rowKey } from "../engine/row-key.js";

/** Which rows of each eval run: `--first N`, `--sample N --seed S`, `--shard I/N` (all may combine). */
export interface Selection {
  first?: number | undefined;
  sample?: number | undefined;
  /** Seed of --sample (default 0). */
  seed?: number | undefined;
  shard?: Shard | undefined;
}

export interface Shard {
  /** 1-based. */
  index: number;
  total: number;
}

/** `I/N` with 1 ≤ I ≤ N; returns the shard or what is wrong with the text. */
export function parseShard(text: string): Shard | { problem: string } {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const example = "e.g. --shard 2/4 runs the second of four shards";
  if (!match) return { problem: `"${text}" is not of the form I/N (${example})` };
  const index = Number(match[1]);
  const total = Number(match[2]);
  if (!Number.isSafeInteger(total) || total < 1)
    return { problem: `"${text}": N must be 1 or more (${example})` };
  if (index < 1 || index > total) {
    return { problem: `"${text}": I must be between 1 and N (shards count from 1; ${example})` };
  }
  return { index, total };
}

/** The first 52 bits of SHA-1 as a number: a position that depends on the text alone, on every platform. */
function rank(text: string): number {
  return Number.parseInt(hash("sha1", text, "hex").slice(0, 13), 16);
}

/**
 * The shard (1-based) a row belongs to, from a hash of its row key alone: a row lands in the same shard whatever
 * the data's order, its other rows or the machine, and rows with equal keys (duplicates, trials) stay together.
 */
export function shardOf(key: string, total: number): number {
  return (rank(key) % total) + 1;
}

/** Where a row falls in `--sample`'s order for `seed`: the sample is the N rows with the lowest ranks. */
export function sampleRank(key: string, seed: number): number {
  return rank(`${seed}\u0000${key}`);
}

/**
 * Runs only the first `n` distinct rows, in data order, and then ends the data: a paginated source is not read to
 * its end for ten rows.
 */
function firstRows(n: number): RunPlan {
  const chosen = new Set<string>();
  return {
    take(key) {
      if (chosen.has(key)) return true;
      if (chosen.size >= n) return false;
      chosen.add(key);
      return true;
    },
    exhausted: () => chosen.size >= n,
  };
}

/**
 * The keys of every row a run would read, the way the engine computes them (filters and malformed rows too). A
 * data source that fails is left to the run itself to report; the keys read before the failure are kept.
 */
async function rowKeys(definition: EvalDefinition, filters: readonly RowFilter[]): Promise<string[]> {
  const keys: string[] = [];
  try {
    const label = `Eval "${definition.name}"`;
    const { iterator } = await openData(definition.evaluator.data, label);
    for (let index = 0; ; index++) {
      const next = iteratorResult(await iterator.next(), label, index);
      if (next.done) break;
      if (isThenable(next.value)) next.value = await Promise.resolve(next.value).catch(() => undefined);
      const malformed = checkRow(next.value, index) !== undefined;
      if (filters.length > 0 && (malformed || !matchesFilters(next.value, filters))) continue;
      keys.push(malformed ? `bad:${index}` : rowKey(next.value as EvalCase));
    }
  } catch {
    // The run reads the same data and records the failure on the eval.
  }
  return keys;
}

/**
 * --sample reads the data once to choose, then the run reads it again: a generator object handed to `data` would
 * be empty the second time, so it is refused before anything runs.
 */
function refuseOneShot(definition: EvalDefinition): void {
  const data = definition.evaluator.data as unknown;
  if (typeof data === "object" && data !== null && typeof (data as { next?: unknown }).next === "function") {
    throw new EvalrunError(
      "USAGE",
      `--sample needs to read the data of eval "${definition.name}" twice, but its \`data\` is an iterator that can be read once.`,
      "Give `data` a function that returns the generator (data: () => rows()) instead of the generator itself.",
    );
  }
}

/** The plan for one eval's selection, or undefined when every row runs. */
export async function selectionPlan(
  definition: EvalDefinition,
  filters: readonly RowFilter[],
  selection: Selection,
): Promise<RunPlan | undefined> {
  const plans: RunPlan[] = [];
  if (selection.first !== undefined) plans.push(firstRows(selection.first));
  if (selection.sample !== undefined) {
    refuseOneShot(definition);
    const seed = selection.seed ?? 0;
    const ranked = [...new Set(await rowKeys(definition, filters))]
      .map((key) => ({ key, rank: sampleRank(key, seed) }))
      .sort((a, b) => a.rank - b.rank || (a.key < b.key ? -1 : 1));
    const sampled = new Set(ranked.slice(0, selection.sample).map((r) => r.key));
    plans.push({ take: (key) => sampled.has(key) });
  }
  const shard = selection.shard;
  if (shard) plans.push({ take: (key) => shardOf(key, shard.total) === shard.index });
  return combinePlans(plans, undefined);
}

/**
 * Selection first, then the store's plan (--resume, --retry-errors) for the rows selected. Every selection plan
 * sees every row (--first counts them), and the store's plan only the rows that will run, since it counts too.
 */
export function combinePlans(selection: RunPlan[], store: RunPlan | undefined): RunPlan | undefined {
  if (selection.length === 0) return store;
  return {
    take(key, trial, rowIndex) {
      let selected = true;
      for (const plan of selection) if (!plan.take(key, trial, rowIndex)) selected = false;
      return selected && (store ? store.take(key, trial, rowIndex) : true);
    },
    // A row is taken only when every selection takes it: one that takes no more ends the data.
    exhausted: () => selection.some((plan) => plan.exhausted?.() === true),
    ...(store?.prior && { prior: store.prior.bind(store) }),
  };
}

/** Refuses, before anything runs, a selection that cannot work for some eval. */
export function checkSelection(
  definitions: readonly EvalDefinition[],
  selection: Selection | undefined,
): void {
  if (selection?.sample === undefined) return;
  for (const definition of definitions) refuseOneShot(definition);
}

/** The flags that select a run's rows, as a user would type them; undefined when every row runs. */
export function describeSelection(
  selection: Selection | undefined,
  filters: ReadonlyArray<{ source: string }>,
): string | undefined {
  const flags: string[] = [];
  if (selection?.first !== undefined) flags.push(`--first ${selection.first}`);
  if (selection?.sample !== undefined) {
    flags.push(`--sample ${selection.sample}`);
    if (selection.seed !== undefined && selection.seed !== 0) flags.push(`--seed ${selection.seed}`);
  }
  // Shard 1/1 is every row (a CI matrix of one job): a full run.
  if (selection?.shard !== undefined && selection.shard.total > 1)
    flags.push(`--shard ${selection.shard.index}/${selection.shard.total}`);
  for (const f of filters) flags.push(`--filter ${f.source}`);
  return flags.length > 0 ? flags.join(" ") : undefined;
}
