/** See random.mjs: a seeded generator (mulberry32), uniform in [0, 1). */
export function random(seed: number): () => number;
