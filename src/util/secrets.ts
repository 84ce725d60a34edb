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
  const forms: string[] = [];
  const needles: string[] = [];
  for (const given of typeof secrets === "string" || secrets === undefined ? [secrets] : secrets) {
    if (given === undefined) continue;
    // HTTP trims a header's value: a key read with a trailing newline or space comes back without it.
    for (const secret of given.trim() === given ? [given] : [given, given.trim()]) {
      if (secret.length < MIN_SECRET) continue;
      const found = plainForms(secret);
      forms.push(...found.forms);
      needles.push(...found.needles);
    }
  }
  if (forms.length === 0) return text;
  if (!text.includes("\\")) {
    let out = text;
    for (const form of forms) if (out.includes(form)) out = out.split(form).join("[redacted]");
    return out;
  }
  let out = redactEscaped(text, needles);
  // A key that its escapes read as almost nothing (backslashes alone) is looked for as it is.
  forms.forEach((form, i) => {
    if ((needles[i] as string).length < MIN_SECRET / 2) out = out.split(form).join("[redacted]");
  });
  return out;
}

/** Per secret: its forms, and each read through its escapes. Bounded for a watch session's changing .env. */
const formsCache = new Map<string, { forms: string[]; needles: string[] }>();

/** The secret as it is, and percent-encoded in a URL (upper- or lowercase hex, `/` kept or not: ?key=ab%2Fcd). */
function plainForms(secret: string): { forms: string[]; needles: string[] } {
  let cached = formsCache.get(secret);
  if (cached === undefined) {
    const forms = new Set([secret]);
    const encoded = encodeURIComponent(secret);
    for (const form of encoded === secret ? [] : [encoded, encoded.replace(/%2F/g, "/")]) {
      forms.add(form);
      forms.add(form.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()));
    }
    const all = [...forms];
    cached = { forms: all, needles: all.map((form) => (form.includes("\\") ? unescaped(form).flat : form)) };
    if (formsCache.size > 10_000) formsCache.clear();
    formsCache.set(secret, cached);
  }
  return cached;
}

/** JSON's short escapes of control characters. */
const SHORT_ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", b: "\b", f: "\f" };

/**
 * A text with every escape read as the character it stands for, whatever the number of backslashes before it
 * (`\/`, `\\\/`, `\u002B`, `\\n`: JSON once or many times over, by any encoder), and where each character of it
 * came from in the text. A run of backslashes at the end is dropped.
 */
function unescaped(text: string): { flat: string; from: Int32Array; to: Int32Array } {
  const chars: string[] = [];
  const from = new Int32Array(text.length);
  const to = new Int32Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; ) {
    const start = i;
    let char = text[i] as string;
    if (char === "\\") {
      while (text[i] === "\\") i++;
      if (i >= text.length) break;
      char = text[i] as string;
      const hex = char === "u" ? text.slice(i + 1, i + 5) : "";
      if (/^[0-9a-fA-F]{4}$/.test(hex)) {
        char = String.fromCharCode(Number.parseInt(hex, 16));
        i += 4;
      } else char = SHORT_ESCAPES[char] ?? char;
    }
    i++;
    chars.push(char);
    from[n] = start;
    to[n] = i;
    n++;
  }
  return { flat: chars.join(""), from, to };
}

/**
 * Redacts a text holding escapes: each key is looked for in the text read through its escapes (the key read the
 * same way), so that a key JSON-escaped any number of times over, by any encoder, is found, and the whole of its
 * escaped form is taken out (a key starting `/` taken out of `\/...` left a backslash that broke the JSON). One
 * pass over the text, then a search per key: patterns per key and depth cost 45 s over 2,000 errors with 90 keys.
 */
function redactEscaped(text: string, needles: readonly string[]): string {
  const { flat, from, to } = unescaped(text);
  const spans: Array<[number, number]> = [];
  for (const needle of needles) {
    if (needle.length < MIN_SECRET / 2) continue;
    for (let at = flat.indexOf(needle); at !== -1; at = flat.indexOf(needle, at + needle.length))
      spans.push([from[at] as number, to[at + needle.length - 1] as number]);
  }
  if (spans.length === 0) return text;
  spans.sort((a, b) => a[0] - b[0]);
  let out = "";
  let done = 0;
  for (const [start, end] of spans) {
    if (end <= done) continue;
    out += `${text.slice(done, Math.max(start, done))}${start >= done ? "[redacted]" : ""}`;
    done = end;
  }
  return out + text.slice(done);
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
