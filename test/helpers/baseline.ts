/** A committed baseline file as a user (or `evalrun baseline save`) writes it: a header line, then one row per line. */
export function baselineFile(
  evalName: string,
  rows: Array<{ row_key?: string; input: unknown; scores: Record<string, number | null>; output?: unknown }>,
): string {
  const header = {
    evalrun_export: 1,
    experiment: { project: evalName, name: "baseline", status: "complete" },
  };
  return `${[header, ...rows].map((r) => JSON.stringify(r)).join("\n")}\n`;
}
