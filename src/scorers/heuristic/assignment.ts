/**
 * The one-to-one assignment of rows to columns with the largest total weight: the Hungarian algorithm (Kuhn–
 * Munkres) in its shortest-augmenting-path form with row and column potentials, O(r²·c) for r ≤ c. Each row
 * gets a distinct column; with more rows than columns the matrix is transposed, so every column gets a row and
 * the extra rows none.
 *
 * `weights` is row-major, rows × cols. Returns, per row, its column or -1.
 */
export function maxWeightAssignment(weights: ArrayLike<number>, rows: number, cols: number): Int32Array {
  if (rows <= cols) return minCostAssignment((r, c) => -(weights[r * cols + c] as number), rows, cols);
  const byColumn = minCostAssignment((c, r) => -(weights[r * cols + c] as number), cols, rows);
  const result = new Int32Array(rows).fill(-1);
  for (let c = 0; c < cols; c++) result[byColumn[c] as number] = c;
  return result;
}

// Needs n ≤ m. Arrays are 1-based with index 0 as the virtual start column, as the algorithm is usually stated.
function minCostAssignment(cost: (row: number, col: number) => number, n: number, m: number): Int32Array {
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  // rowOf[j]: the row (1-based) holding column j, 0 when free.
  const rowOf = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    rowOf[0] = i;
    let j0 = 0;
    minv.fill(Number.POSITIVE_INFINITY);
    used.fill(0);
    // Grow a tree of tight edges from row i until it reaches a free column.
    do {
      used[j0] = 1;
      const i0 = rowOf[j0] as number;
      let delta = Number.POSITIVE_INFINITY;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const reduced = cost(i0 - 1, j - 1) - (u[i0] as number) - (v[j] as number);
        if (reduced < (minv[j] as number)) {
          minv[j] = reduced;
          way[j] = j0;
        }
        if ((minv[j] as number) < delta) {
          delta = minv[j] as number;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          const row = rowOf[j] as number;
          u[row] = (u[row] as number) + delta;
          v[j] = (v[j] as number) - delta;
        } else {
          minv[j] = (minv[j] as number) - delta;
        }
      }
      j0 = j1;
    } while (rowOf[j0] !== 0);
    // Flip the augmenting path back to the start.
    do {
      const j1 = way[j0] as number;
      rowOf[j0] = rowOf[j1] as number;
      j0 = j1;
    } while (j0 !== 0);
  }
  const result = new Int32Array(n).fill(-1);
  for (let j = 1; j <= m; j++) {
    const row = rowOf[j] as number;
    if (row !== 0) result[row - 1] = j - 1;
  }
  return result;
}
