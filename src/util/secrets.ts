/**
 * Secrets in text evalrun records: a task's error that quotes an API key (an SDK's 401 often does) must not reach
 * the terminal, the store, exports or reports.
 */

/**
 * Whether a variable's name says it holds a secret: a word of it (split at `_`) is KEY, TOKEN, SECRET, PASSWORD...,
 * or it ends in one (PGPASSWORD, GITHUBTOKEN). MONKEY is not KEY.
 */
const SECRET_WORDS = new Set([
  "KEY",
  "APIKEY",
  "TOKEN",
  "SECRET",
  "PASSWORD",
  "PASSWD",
  "PWD",
  "PAT",
  "CREDENTIAL",
  "CREDENTIALS",
  "AUTH",
]);
const SECRET_END = /(?:APIKEY|TOKEN|SECRET|PASSWORD|PASSWD)$/;

function secretName(name: string): boolean {
  const upper = name.toUpperCase();
  return SECRET_END.test(upper) || upper.split("_").some((word) => SECRET_WORDS.has(word));
}

/** Shorter values are too likely to occur in ordinary text ("true", a port) to be taken out of it. */
const MIN_SECRET = 8;

/** A path or a URL without credentials (GOOGLE_APPLICATION_CREDENTIALS, SSH_AUTH_SOCK, AUTH_URL) names, not hides. */
const NOT_SECRET = /^(?:[/~.]|[A-Za-z]:[\\/]|[a-z][a-z0-9+.-]*:\/\/[^@/\s]*(?:[/?#]|$))/;

/** The password of a URL with credentials (DATABASE_URL=postgres://app:pw@db/app), whatever the variable's name. */
const URL_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:([^@/\s]+)@/i;

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

/** The names looked at, kept while the environment has the same names; values are read at every call. */
let names: { env: NodeJS.ProcessEnv; count: number; names: string[] } | undefined;

/**
 * The values of the environment's secret-named variables and the passwords in its URLs, longest first. Read at
 * every call: a watch session restarted on a changed .env has new values under the same names.
 */
export function environmentSecrets(env: NodeJS.ProcessEnv = process.env): string[] {
  const all = Object.keys(env);
  if (names?.env !== env || names.count !== all.length) {
    names = {
      env,
      count: all.length,
      names: all.filter((name) => secretName(name) || URL_PASSWORD.test(env[name] ?? "")),
    };
  }
  const secrets = new Set<string>();
  for (const name of names.names) {
    const value = env[name];
    if (value === undefined) continue;
    const password = URL_PASSWORD.exec(value)?.[1];
    if (password !== undefined && password.length >= MIN_SECRET) secrets.add(password);
    if (value.length >= MIN_SECRET && secretName(name) && !NOT_SECRET.test(value)) secrets.add(value);
  }
  return [...secrets].sort((a, b) => b.length - a.length);
}

/** `text` without the environment's secrets. */
export const withoutSecrets = (text: string): string => {
  const secrets = environmentSecrets();
  return secrets.length === 0 ? text : redact(text, secrets);
};
