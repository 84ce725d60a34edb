/**
 * Levenshtein distance over UTF-16 code units (as `string.length` counts, and as autoevals' js-levenshtein does),
 * with Myers' bit-parallel algorithm in Hyyrö's formulation: one 32-bit word holds the vertical deltas of 32
 * rows of the DP matrix, so a column costs a handful of word operations per 32 rows. Patterns longer than 32
 * code units are split into blocks chained by their horizontal delta (Myers' blocked variant). Time
 * O(⌈m/32⌉·n), memory O(σ·⌈m/32⌉) for σ distinct code units in the shorter string: never the m·n matrix.
 * Patterns longer than one word run in WebAssembly with 64-bit words (edit-distance.wat), 2-3x faster here;
 * the JavaScript version stays for when WebAssembly cannot be used.
 */
import { EDIT_DISTANCE_WASM } from "./edit-distance-wasm.js";

// Indexed by code unit. Allocated once and cleared after each use (only the entries set), so a call costs
// nothing for the table; calls never interleave, as the functions are synchronous.
let table: Int32Array | undefined;

export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let start = 0;
  let endA = a.length;
  let endB = b.length;
  // A shared prefix or suffix never changes the distance; trimming it is cheap and common (near-identical texts).
  while (start < endA && start < endB && a.charCodeAt(start) === b.charCodeAt(start)) start++;
  while (endA > start && endB > start && a.charCodeAt(endA - 1) === b.charCodeAt(endB - 1)) {
    endA--;
    endB--;
  }
  const lengthA = endA - start;
  const lengthB = endB - start;
  if (lengthA === 0) return lengthB;
  if (lengthB === 0) return lengthA;
  // The shorter string is the pattern: fewer blocks to keep per distinct code unit.
  return lengthA <= lengthB
    ? distance(a, start, lengthA, b, start, lengthB)
    : distance(b, start, lengthB, a, start, lengthA);
}

function distance(
  pattern: string,
  pStart: number,
  m: number,
  text: string,
  tStart: number,
  n: number,
): number {
  table ??= new Int32Array(0x10000);
  if (m <= 32) return singleWord(table, pattern, pStart, m, text, tStart, n);
  return (
    wasmBlocked(table, pattern, pStart, m, text, tStart, n) ??
    blocked(table, pattern, pStart, m, text, tStart, n)
  );
}

/** The JavaScript blocked version alone (tests compare it with the WebAssembly one). */
export function editDistanceJs(a: string, b: string): number {
  table ??= new Int32Array(0x10000);
  if (a === b) return 0;
  if (a.length === 0 || b.length === 0) return Math.max(a.length, b.length);
  return a.length <= b.length
    ? blocked(table, a, 0, a.length, b, 0, b.length)
    : blocked(table, b, 0, b.length, a, 0, a.length);
}

interface WasmDistance {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  distance: (m: number, n: number, blocks: number, pvAt: number, mvAt: number, textAt: number) => number;
}

// undefined: not tried yet; null: unavailable (no WebAssembly, or it failed), so JavaScript it is.
let wasm: WasmDistance | null | undefined;

/** Past this much memory the JavaScript version, which allocates per call, is used instead of growing ours. */
const WASM_MAX_BYTES = 256 * 1024 * 1024;

// Declared here rather than through the DOM library, which the rest of the code must not see.
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

function loadWasm(): WasmDistance | null {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!api) return null;
  try {
    const module = new api.Module(Buffer.from(EDIT_DISTANCE_WASM, "base64"));
    return new api.Instance(module, {}).exports as WasmDistance;
  } catch {
    return null;
  }
}

function wasmBlocked(
  slotOf: Int32Array,
  pattern: string,
  pStart: number,
  m: number,
  text: string,
  tStart: number,
  n: number,
): number | undefined {
  if (wasm === undefined) wasm = loadWasm();
  if (wasm === null) return undefined;
  const blocks = (m + 63) >>> 6;
  let slots = 1;
  for (let i = 0; i < m; i++) {
    const c = pattern.charCodeAt(pStart + i);
    if (slotOf[c] === 0) slotOf[c] = slots++;
  }
  const peqBytes = slots * blocks * 8;
  const pvAt = peqBytes;
  const mvAt = pvAt + blocks * 8;
  const textAt = mvAt + blocks * 8;
  const need = textAt + n * 4;
  const { memory } = wasm;
  if (need > WASM_MAX_BYTES) {
    for (let i = 0; i < m; i++) slotOf[pattern.charCodeAt(pStart + i)] = 0;
    return undefined;
  }
  if (memory.buffer.byteLength < need) memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
  // Each 64-bit word as two 32-bit halves, low first (WebAssembly is little-endian).
  const halves = new Uint32Array(memory.buffer, 0, peqBytes / 4);
  halves.fill(0);
  for (let i = 0; i < m; i++) {
    const at =
      ((slotOf[pattern.charCodeAt(pStart + i)] as number) * blocks + (i >>> 6)) * 2 + ((i >>> 5) & 1);
    halves[at] = (halves[at] as number) | (1 << (i & 31));
  }
  const rows = new Int32Array(memory.buffer, textAt, n);
  const rowBytes = blocks * 8;
  for (let j = 0; j < n; j++) rows[j] = (slotOf[text.charCodeAt(tStart + j)] as number) * rowBytes;
  for (let i = 0; i < m; i++) slotOf[pattern.charCodeAt(pStart + i)] = 0;
  return wasm.distance(m, n, blocks, pvAt, mvAt, textAt);
}

function singleWord(
  peq: Int32Array,
  pattern: string,
  pStart: number,
  m: number,
  text: string,
  tStart: number,
  n: number,
): number {
  for (let i = 0; i < m; i++) {
    const c = pattern.charCodeAt(pStart + i);
    peq[c] = (peq[c] as number) | (1 << i);
  }
  const last = 1 << (m - 1);
  let pv = -1;
  let mv = 0;
  let score = m;
  for (let j = 0; j < n; j++) {
    const eq = peq[text.charCodeAt(tStart + j)] as number;
    const xv = eq | mv;
    // The sum may pass 32 bits; `^` truncates it back, and only the low m bits matter.
    const xh = ((((eq & pv) + pv) | 0) ^ pv) | eq;
    let ph = mv | ~(xh | pv);
    let mh = pv & xh;
    if ((ph & last) !== 0) score++;
    else if ((mh & last) !== 0) score--;
    // Row 0 of the matrix is 0, 1, 2, ...: every column enters with a horizontal delta of +1.
    ph = (ph << 1) | 1;
    mh <<= 1;
    pv = mh | ~(xv | ph);
    mv = ph & xv;
  }
  for (let i = 0; i < m; i++) peq[pattern.charCodeAt(pStart + i)] = 0;
  return score;
}

function blocked(
  slotOf: Int32Array,
  pattern: string,
  pStart: number,
  m: number,
  text: string,
  tStart: number,
  n: number,
): number {
  const blocks = (m + 31) >>> 5;
  // Slot 0 is the all-zero row for code units absent from the pattern.
  let slots = 1;
  for (let i = 0; i < m; i++) {
    const c = pattern.charCodeAt(pStart + i);
    if (slotOf[c] === 0) slotOf[c] = slots++;
  }
  const peq = new Int32Array(slots * blocks);
  for (let i = 0; i < m; i++) {
    const row = (slotOf[pattern.charCodeAt(pStart + i)] as number) * blocks;
    peq[row + (i >>> 5)] = (peq[row + (i >>> 5)] as number) | (1 << (i & 31));
  }
  const pvs = new Int32Array(blocks).fill(-1);
  const mvs = new Int32Array(blocks);
  // Two columns per pass over the blocks: their chains of horizontal deltas are independent, so the CPU overlaps
  // them (one column alone is a serial chain from block to block).
  let j = 0;
  for (; j + 1 < n; j += 2) {
    const rowA = (slotOf[text.charCodeAt(tStart + j)] as number) * blocks;
    const rowB = (slotOf[text.charCodeAt(tStart + j + 1)] as number) * blocks;
    // The horizontal delta leaving a block, as two bits (+1, -1), so that chaining blocks needs no branches.
    // Row 0 of the matrix is 0, 1, 2, ...: every column enters the first block with +1.
    let hpA = 1;
    let hmA = 0;
    let hpB = 1;
    let hmB = 0;
    for (let k = 0; k < blocks; k++) {
      let pv = pvs[k] as number;
      let mv = mvs[k] as number;
      let eq0 = peq[rowA + k] as number;
      let xv = eq0 | mv;
      // A -1 entering from the block above acts as a match in the block's first row.
      let eq = eq0 | hmA;
      // The sum may pass 32 bits; `| 0` truncates it back, and only the low bits matter.
      let xh = ((((eq & pv) + pv) | 0) ^ pv) | eq;
      let ph = mv | ~(xh | pv);
      let mh = pv & xh;
      let phs = (ph << 1) | hpA;
      let mhs = (mh << 1) | hmA;
      hpA = ph >>> 31;
      hmA = mh >>> 31;
      pv = mhs | ~(xv | phs);
      mv = phs & xv;
      eq0 = peq[rowB + k] as number;
      xv = eq0 | mv;
      eq = eq0 | hmB;
      xh = ((((eq & pv) + pv) | 0) ^ pv) | eq;
      ph = mv | ~(xh | pv);
      mh = pv & xh;
      phs = (ph << 1) | hpB;
      mhs = (mh << 1) | hmB;
      hpB = ph >>> 31;
      hmB = mh >>> 31;
      pvs[k] = mhs | ~(xv | phs);
      mvs[k] = phs & xv;
    }
  }
  if (j < n) {
    const row = (slotOf[text.charCodeAt(tStart + j)] as number) * blocks;
    let hp = 1;
    let hm = 0;
    for (let k = 0; k < blocks; k++) {
      const pv = pvs[k] as number;
      const mv = mvs[k] as number;
      const eq0 = peq[row + k] as number;
      const xv = eq0 | mv;
      const eq = eq0 | hm;
      const xh = ((((eq & pv) + pv) | 0) ^ pv) | eq;
      const ph = mv | ~(xh | pv);
      const mh = pv & xh;
      const phs = (ph << 1) | hp;
      const mhs = (mh << 1) | hm;
      hp = ph >>> 31;
      hm = mh >>> 31;
      pvs[k] = mhs | ~(xv | phs);
      mvs[k] = phs & xv;
    }
  }
  // The last column's vertical deltas, summed from D[0][n] = n down to row m, give D[m][n]; bits past row m (in
  // the last block) are ignored.
  let score = n;
  for (let k = 0; k < blocks; k++) {
    const mask = k === blocks - 1 && (m & 31) !== 0 ? (1 << (m & 31)) - 1 : -1;
    score += popcount((pvs[k] as number) & mask) - popcount((mvs[k] as number) & mask);
  }
  for (let i = 0; i < m; i++) slotOf[pattern.charCodeAt(pStart + i)] = 0;
  return score;
}

function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) as number;
}
