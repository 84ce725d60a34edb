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
  "KEYS",
  "APIKEY",
  "APIKEYS",
  "TOKEN",
  "TOKENS",
  "SECRET",
  "SECRETS",
  "PASSWORD",
  "PASSWORDS",
  "PASSWD",
  "PWD",
  "PAT",
  "CREDENTIAL",
  "CREDENTIALS",
  "AUTH",
]);
const SECRET_END = /(?:APIKEYS?|TOKENS?|SECRETS?|PASSWORDS?|PASSWD)$/;

/** The shell's working directories: PWD is a secret word (MYSQL_PWD), not these. */
const SHELL_DIRECTORIES = new Set(["PWD", "OLDPWD"]);

function secretName(name: string): boolean {
  const upper = name.toUpperCase();
  if (SHELL_DIRECTORIES.has(upper)) return false;
  return SECRET_END.test(upper) || upper.split("_").some((word) => SECRET_WORDS.has(word));
}

/** A name for several keys (OPENAI_API_KEYS=k1,k2, for rotation), whose value is a list of them. */
const LIST_NAME = /(?:KEYS|TOKENS|SECRETS|PASSWORDS)$/;

/** Shorter values are too likely to occur in ordinary text ("true", a port) to be taken out of it. */
const MIN_SECRET = 8;

/**
 * A path or a URL without credentials (GOOGLE_APPLICATION_CREDENTIALS, SSH_AUTH_SOCK, AUTH_URL) names, not hides.
 * A value starting with `/` with no other `/` and a `+` or `=` is base64 (an AWS secret key may start so).
 */
const NOT_SECRET = /^(?:[/~.](?=.*\/|[^+=]*$)|[A-Za-z]:[\\/]|[a-z][a-z0-9+.-]*:\/\/[^@/\s]*(?:[/?#]|$))/;

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
  for (const given of typeof secrets === "string" || secrets === undefined ? [secrets] : secrets) {
    if (given === undefined) continue;
    // HTTP trims a header's value: a key read with a trailing newline or space comes back without it.
    for (const secret of given.trim() === given ? [given] : [given, given.trim()]) {
      if (secret.length < MIN_SECRET) continue;
      out = out.split(secret).join("[redacted]");
      // In a URL's query or path (?key=ab%2Fcd).
      const encoded = encodeURIComponent(secret);
      if (encoded !== secret) out = out.split(encoded).join("[redacted]");
      // Quoted back inside JSON, a key may be escaped (`\/`, `\u002B`, a `"` always), once per encoding.
      if (mayHoldEscaped(out, secret)) out = out.replace(escapedPattern(secret), "[redacted]");
    }
  }
  return out;
}

/** Whether an escape that could be one of the secret's characters is in the text: most errors hold none. */
function mayHoldEscaped(text: string, secret: string): boolean {
  let at = text.indexOf("\\");
  if (at !== -1 && secret.includes("\\")) return true;
  // One pass over the runs of backslashes (includes() of each escape crawled through a long run, once each).
  while (at !== -1) {
    let end = at + 1;
    while (text.charCodeAt(end) === 92) end++;
    const next = text[end];
    if (next === "u" || (next !== undefined && !/[A-Za-z0-9]/.test(next) && secret.includes(next)))
      return true;
    at = text.indexOf("\\", end);
  }
  return false;
}

const escapedPatterns = new Map<string, RegExp>();

/**
 * The secret with any of its characters JSON-escaped, up to three times over (`\\\/` is `/` escaped twice). The
 * backslashes are counted, not `+`: in a long run of them, `\\+` backtracked over the run at each position.
 */
function escapedPattern(secret: string): RegExp {
  let pattern = escapedPatterns.get(secret);
  if (pattern === undefined) {
    let source = "";
    for (const char of secret) {
      const code = char.charCodeAt(0);
      const hex = [...code.toString(16).padStart(4, "0")]
        .map((digit) => (/[a-f]/.test(digit) ? `[${digit}${digit.toUpperCase()}]` : digit))
        .join("");
      const literal = char.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
      const escapedChar = /[A-Za-z0-9]/.test(char) ? "" : `|\\\\{1,7}${literal}`;
      source += char.length > 1 || code > 0xffff ? literal : `(?:${literal}${escapedChar}|\\\\{1,7}u${hex})`;
    }
    pattern = new RegExp(source, "g");
    if (escapedPatterns.size > 100) escapedPatterns.clear();
    escapedPatterns.set(secret, pattern);
  }
  return pattern;
}

/** The names looked at, kept while the environment has the same names; values are read at every call. */
let names: { env: NodeJS.ProcessEnv; count: number; names: string[] } | undefined;

/**
 * The values of the environment's secret-named variables, the passwords in its URLs and the keys given in code
 * (rememberSecrets), longest first. Read at every call: a watch session restarted on a changed .env has new values
 * under the same names.
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
    if (value.length >= MIN_SECRET && secretName(name) && !NOT_SECRET.test(value.trim())) {
      secrets.add(value);
      // A list of keys (OPENAI_API_KEYS=k1,k2 for rotation): each is quoted alone.
      if (LIST_NAME.test(name.toUpperCase()))
        for (const part of value.split(/[\s,;]+/)) if (part.length >= MIN_SECRET) secrets.add(part);
    }
  }
  for (const secret of givenSecrets()) secrets.add(secret);
  return [...secrets].sort((a, b) => b.length - a.length);
}

// On globalThis, as init()'s settings: an eval file may reach a second copy of evalrun.
const GIVEN = Symbol.for("evalrun.secrets.v1");

function givenSecrets(): Set<string> {
  const holder = globalThis as { [GIVEN]?: Set<string> };
  holder[GIVEN] ??= new Set();
  return holder[GIVEN];
}

/**
 * Keys given in code (init({ apiKey, headers }), a client's own apiKey, a scorer's apiKey): taken out of every
 * recorded error as the environment's are, since a client's or SDK's error may quote them in any shape.
 */
export function rememberSecrets(values: readonly unknown[]): void {
  const given = givenSecrets();
  for (const value of values)
    if (typeof value === "string" && value.trim().length >= MIN_SECRET) given.add(value);
}

/** `text` without the environment's secrets, nor those given in code. */
export const withoutSecrets = (text: string): string => {
  const secrets = environmentSecrets();
  return secrets.length === 0 ? text : redact(text, secrets);
};
