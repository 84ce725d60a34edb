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
 * A value of `/` and then only base64 with a `+` or `=` and no other `/` is a key (an AWS secret key may start so).
 */
const NOT_SECRET =
  /^(?:[/~.](?=.*\/|[^+=]*$|.*[^A-Za-z0-9+=])|[A-Za-z]:[\\/]|[a-z][a-z0-9+.-]*:\/\/[^@/\s]*(?:[/?#]|$))/;

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
      for (const form of plainForms(secret)) out = out.split(form).join("[redacted]");
      // Quoted back inside JSON, a key may be escaped (`\/`, `\u002B`, `\n`, a `"` always), once per encoding.
      if (mayHoldEscaped(out, secret))
        for (const pattern of escapedPatterns(secret)) out = out.replace(pattern, "[redacted]");
    }
  }
  return out;
}

/** The secret as it is, and percent-encoded in a URL (upper- or lowercase hex, `/` kept or not: ?key=ab%2Fcd). */
function plainForms(secret: string): string[] {
  const encoded = encodeURIComponent(secret);
  if (encoded === secret) return [secret];
  const forms = new Set([secret]);
  for (const form of [encoded, encoded.replace(/%2F/g, "/")]) {
    forms.add(form);
    forms.add(form.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()));
  }
  return [...forms];
}

/** JSON's short escapes of control characters. */
const SHORT_ESCAPES: Record<string, string> = { "\n": "n", "\r": "r", "\t": "t", "\b": "b", "\f": "f" };

/** Whether an escape that could be one of the secret's characters is in the text: most errors hold none. */
function mayHoldEscaped(text: string, secret: string): boolean {
  let at = text.indexOf("\\");
  if (at !== -1 && secret.includes("\\")) return true;
  // One pass over the runs of backslashes (includes() of each escape crawled through a long run, once each).
  while (at !== -1) {
    let end = at + 1;
    while (text.charCodeAt(end) === 92) end++;
    const next = text[end];
    if (next !== undefined) {
      if (next === "u" || (!/[A-Za-z0-9]/.test(next) && secret.includes(next))) return true;
      for (const [control, letter] of Object.entries(SHORT_ESCAPES))
        if (next === letter && secret.includes(control)) return true;
    }
    at = text.indexOf("\\", end);
  }
  return false;
}

const escapedCache = new Map<string, RegExp[]>();

/**
 * The secret in a JSON string escaped once, twice and three times over (a body quoted in a message quoted in a
 * report), a pattern for each depth d. What JSON must escape takes an exact number of backslashes at a depth: a
 * backslash 2^d, a `"` 2^d - 1, `\n` 2^(d-1). What an encoder may escape or not (`\/`, `\u002B`) takes up to
 * 2^d - 1 before it, and a run of them always ends at the character or its `u`. Exact counts where a run could
 * end in the next backslash keep a key with backslashes in a row from being matched in many ways: with any count
 * allowed, 8 in a row took 20 s a text.
 */
function escapedPatterns(secret: string): RegExp[] {
  let patterns = escapedCache.get(secret);
  if (patterns === undefined) {
    patterns = [1, 2, 3].map((depth) => {
      const exactly = (n: number) => `\\\\{${n}}`;
      const upTo = (n: number) => `\\\\{1,${n}}`;
      let source = "";
      for (const char of secret) {
        const code = char.charCodeAt(0);
        if (char.length > 1) {
          source += char;
          continue;
        }
        const hex = [...code.toString(16).padStart(4, "0")]
          .map((digit) => (/[a-f]/.test(digit) ? `[${digit}${digit.toUpperCase()}]` : digit))
          .join("");
        const forms = [`${upTo(2 ** (depth - 1))}u${hex}`];
        const literal = char.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
        if (char === "\\") forms.push(exactly(2 ** depth));
        else if (char === '"') forms.push(`${exactly(2 ** depth - 1)}"`);
        else if (SHORT_ESCAPES[char] !== undefined)
          forms.push(`${exactly(2 ** (depth - 1))}${SHORT_ESCAPES[char]}`);
        else if (code >= 0x20) {
          forms.push(literal);
          if (!/[A-Za-z0-9]/.test(char)) forms.push(`${upTo(2 ** depth - 1)}${literal}`);
        }
        source += `(?:${forms.join("|")})`;
      }
      return new RegExp(source, "g");
    });
    if (escapedCache.size > 100) escapedCache.clear();
    escapedCache.set(secret, patterns);
  }
  return patterns;
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
