/**
 * Secrets in text evalrun records: a task's error that quotes an API key (an SDK's 401 often does) must not reach
 * the terminal, the store, exports or reports.
 */

/** Environment variables whose names say they hold a secret: OPENAI_API_KEY, GITHUB_TOKEN, DB_PASSWORD, ... */
const SECRET_NAME = /(?:^|_)(?:API_?KEY|KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?|AUTH)(?:$|_)/i;

/** Shorter values are too likely to occur in ordinary text ("true", a port) to be taken out of it. */
const MIN_SECRET = 8;

/**
 * Replaces every occurrence of each secret with `[redacted]`. Values shorter than MIN_SECRET are left: a local
 * server's placeholder key (`ollama`, `EMPTY`) is no secret, and taking it out hid the host of the URL to fix
 * (`http://[redacted]:11434`).
 */
export function redact(
  text: string,
  secrets: ReadonlyArray<string | undefined> | string | undefined,
): string {
  let out = text;
  for (const secret of typeof secrets === "string" || secrets === undefined ? [secrets] : secrets) {
    if (secret !== undefined && secret.length >= MIN_SECRET) out = out.split(secret).join("[redacted]");
  }
  return out;
}

let cached: { env: NodeJS.ProcessEnv; count: number; secrets: string[] } | undefined;

/** The values of the environment's secret-named variables, longest first (read again when the environment changes). */
export function environmentSecrets(env: NodeJS.ProcessEnv = process.env): string[] {
  const names = Object.keys(env);
  if (cached?.env === env && cached.count === names.length) return cached.secrets;
  const secrets = new Set<string>();
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value.length >= MIN_SECRET && SECRET_NAME.test(name)) secrets.add(value);
  }
  const sorted = [...secrets].sort((a, b) => b.length - a.length);
  cached = { env, count: names.length, secrets: sorted };
  return sorted;
}

/** `text` without the environment's secrets. */
export const withoutSecrets = (text: string): string => {
  const secrets = environmentSecrets();
  return secrets.length === 0 ? text : redact(text, secrets);
};
