/**
 * The name of an eval of a project that experimentName tells apart, as Braintrust's CLI keys it: two evals of one
 * name with distinct experimentNames run as two, each with its own history and baseline. The loader renames them;
 * a worker thread, which imports the file itself, finds each by the same key.
 */
export function braintrustKey(name: string, experimentName: string): string {
  return `${name} [experimentName=${experimentName}]`;
}
