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
  const keys: KeyForms[] = [];
  for (const given of typeof secrets === "string" || secrets === undefined ? [secrets] : secrets) {
    if (given === undefined) continue;
    // HTTP trims a header's value: a key read with a trailing newline or space comes back without it.
    for (const secret of given.trim() === given ? [given] : [given, given.trim()])
      if (secret.length >= MIN_SECRET) keys.push(formsOf(secret));
  }
  if (keys.length === 0) return text;
  const out = text.includes("\\") && escapesMatter(text, keys) ? redactEscaped(text, keys) : text;
  // And as it is: a key after a backslash of the text's own reads as an escape there (`\nB3d...` as a newline
  // and `B3d...`), and one its escapes read as almost nothing (backslashes alone) is not looked for through them.
  const spans: Array<[number, number]> = [];
  // Every form but the key itself is percent-encoded: a text without `%` can hold only the key.
  const percent = out.includes("%");
  for (const key of keys) {
    if (!out.includes(key.core)) continue;
    for (const form of percent ? key.forms : key.forms.slice(0, 1))
      for (let at = out.indexOf(form); at !== -1; at = out.indexOf(form, at + form.length))
        spans.push([at, at + form.length]);
  }
  return withoutSpans(out, spans);
}

/** The text with each span (start, end) taken out; spans that overlap (two keys sharing a part) go as one. */
function withoutSpans(text: string, spans: Array<[number, number]>): string {
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

interface KeyForms {
  /**
   * The key's longest run of letters and digits, when it has several forms and the run is long enough to be rare
   * (else nothing): every form holds it, so a text without it holds none. A short run (`w0rd` of `p@ss!w0rd#1*`)
   * is found all over a text and cost more than the search it spared.
   */
  core: string;
  /** The key as it is and percent-encoded. */
  forms: string[];
  /** Each form read through its escapes, as a text with escapes is. */
  needles: string[];
  /** What every needle holds: the core, or nothing for a key with a backslash (`\n` in it reads as a newline). */
  flatCore: string;
}

/** Per secret. Bounded for a watch session's changing .env. */
const formsCache = new Map<string, KeyForms>();

function formsOf(secret: string): KeyForms {
  let cached = formsCache.get(secret);
  if (cached === undefined) {
    const forms = [secret, ...percentForms(secret)];
    const run = (secret.match(/[A-Za-z0-9]+/g) ?? [""]).reduce((a, b) => (b.length > a.length ? b : a));
    const core = forms.length > 1 && run.length >= 8 ? run : "";
    const needles = forms.map((form) => (form.includes("\\") ? unescaped(form).flat : form));
    cached = { core, forms, needles, flatCore: secret.includes("\\") ? "" : core };
    if (formsCache.size > 10_000) formsCache.clear();
    formsCache.set(secret, cached);
  }
  return cached;
}

/**
 * The secret percent-encoded as encoders write it in a URL: encodeURIComponent's, RFC 3986's (`!'()*` too: Python's
 * quote, PHP's rawurlencode), PHP urlencode's `~`, and of the key JSON-escaped by PHP (`/` as `\/`); upper- or
 * lowercase hex; `/` kept or not (?key=ab%2Fcd); and each encoded again, as a URL in another URL's query is.
 */
function percentForms(secret: string): string[] {
  let encoded: string;
  try {
    encoded = encodeURIComponent(secret);
  } catch {
    return []; // a lone surrogate: no encoder writes such a key
  }
  if (encoded === secret && !/[!'()*~]/.test(secret)) return [];
  const strict = encoded.replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const once = new Set<string>();
  // PHP's json_encode writes `/` as `\/`: a key in JSON in a query string has `%5C%2F` for it.
  const jsonSlashes = secret.includes("/") ? [encoded.replace(/%2F/g, "%5C%2F")] : [];
  for (const base of new Set([encoded, strict, strict.replace(/%7E/g, "~"), ...jsonSlashes]))
    for (const form of [base, base.replace(/%2F/g, "/")]) {
      once.add(form);
      once.add(form.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()));
    }
  once.delete(secret);
  return [...once, ...[...once].map((form) => form.replace(/%/g, "%25"))];
}

/** JSON's short escapes of control characters, by char code: `\n` stands for a newline. */
const SHORT_CODES = new Map(
  Object.entries({ n: "\n", r: "\r", t: "\t", b: "\b", f: "\f" }).map(([c, s]) => [
    c.charCodeAt(0),
    s.charCodeAt(0),
  ]),
);
const BACKSLASH = 92;
const isHex = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
const isAlnum = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** A text read through its escapes, and where each character of it came from in the text. */
interface Unescaped {
  flat: string;
  /** Per piece of `flat`, in order: where it starts in `flat`, and in the text, and where it ends in the text. */
  flatStarts: number[];
  textStarts: number[];
  textEnds: number[];
  /** Whether the piece is one escape (a character) or a stretch of the text as it is. */
  escapes: boolean[];
}

/**
 * A text with every escape read as the character it stands for, whatever the number of backslashes before it
 * (`\/`, `\\\/`, `\u002B`, `\\n`: JSON once or many times over, by any encoder). Backslashes before a letter or
 * digit that starts no escape are the text's own (`C:\\keys\\sk-...`): read as nothing, and no part of what
 * follows. A run of backslashes at the end is dropped. Built of slices between backslashes: a text with few of
 * them costs little more than a copy.
 */
function unescaped(text: string): Unescaped {
  const parts: string[] = [];
  const u: Unescaped = { flat: "", flatStarts: [], textStarts: [], textEnds: [], escapes: [] };
  let flatLength = 0;
  const piece = (value: string, from: number, to: number, isEscape: boolean) => {
    parts.push(value);
    u.flatStarts.push(flatLength);
    u.textStarts.push(from);
    u.textEnds.push(to);
    u.escapes.push(isEscape);
    flatLength += value.length;
  };
  for (let i = 0; i < text.length; ) {
    const backslash = text.indexOf("\\", i);
    const rawEnd = backslash === -1 ? text.length : backslash;
    if (rawEnd > i) piece(text.slice(i, rawEnd), i, rawEnd, false);
    if (backslash === -1) break;
    let at = backslash;
    while (text.charCodeAt(at) === BACKSLASH) at++;
    if (at >= text.length) break;
    const stands = escapeAt(text, at);
    if (stands === undefined) {
      i = at;
      continue;
    }
    piece(String.fromCharCode(stands.code), backslash, stands.end, true);
    i = stands.end;
  }
  u.flat = parts.join("");
  return u;
}

/** The piece of `flat` that holds its character `index` (binary search). */
function pieceOf(u: Unescaped, index: number): number {
  let low = 0;
  let high = u.flatStarts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((u.flatStarts[mid] as number) <= index) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** Where `flat`'s character `index` starts (or ends) in the text. */
function textStart(u: Unescaped, index: number): number {
  const p = pieceOf(u, index);
  return u.escapes[p]
    ? (u.textStarts[p] as number)
    : (u.textStarts[p] as number) + index - (u.flatStarts[p] as number);
}
function textEnd(u: Unescaped, index: number): number {
  const p = pieceOf(u, index);
  return u.escapes[p]
    ? (u.textEnds[p] as number)
    : (u.textStarts[p] as number) + index - (u.flatStarts[p] as number) + 1;
}

/**
 * Whether reading the text through its escapes could find a key its plain forms miss: some key holds a backslash,
 * or some escape of the text stands for a character of a key (`\/`, `\u002B`). Most texts with backslashes hold
 * only paths, quotes and newlines (`C:\\Users`, `\"`, `\n`), and reading them through costs 5 ms per 100 KB.
 */
function escapesMatter(text: string, keys: readonly KeyForms[]): boolean {
  if (keys.some((key) => key.forms.some((form, i) => form !== key.needles[i]))) return true;
  const seen = new Set<number>();
  for (let at = text.indexOf("\\"); at !== -1; at = text.indexOf("\\", at)) {
    while (text.charCodeAt(at) === BACKSLASH) at++;
    if (at >= text.length) break;
    const stands = escapeAt(text, at)?.code;
    if (stands === undefined || seen.has(stands)) continue;
    seen.add(stands);
    const char = String.fromCharCode(stands);
    if (keys.some((key) => key.needles.some((needle) => needle.includes(char)))) return true;
  }
  return false;
}

/**
 * The character the escape whose backslashes end at `at` stands for, and where the escape ends; none for a
 * backslash of the text's own (before a letter or digit that starts no escape).
 */
function escapeAt(text: string, at: number): { code: number; end: number } | undefined {
  const c = text.charCodeAt(at);
  if (c === 117 && at + 4 < text.length) {
    let hex = true;
    for (let k = at + 1; k <= at + 4; k++) hex &&= isHex(text.charCodeAt(k));
    if (hex) return { code: Number.parseInt(text.slice(at + 1, at + 5), 16), end: at + 5 };
  }
  const code = SHORT_CODES.get(c) ?? (isAlnum(c) ? undefined : c);
  return code === undefined ? undefined : { code, end: at + 1 };
}

/**
 * Redacts a text holding escapes: each key is looked for in the text read through its escapes (the key read the
 * same way), so that a key JSON-escaped any number of times over, by any encoder, is found, and the whole of its
 * escaped form is taken out (a key starting `/` taken out of `\/...` left a backslash that broke the JSON). One
 * pass over the text, then a search per key: patterns per key and depth cost 45 s over 2,000 errors with 90 keys.
 */
function redactEscaped(text: string, keys: readonly KeyForms[]): string {
  const u = unescaped(text);
  const spans: Array<[number, number]> = [];
  const percent = u.flat.includes("%");
  for (const key of keys) {
    if (!u.flat.includes(key.flatCore)) continue;
    for (const needle of percent ? key.needles : key.needles.slice(0, 1)) {
      if (needle.length < MIN_SECRET / 2) continue;
      for (let at = u.flat.indexOf(needle); at !== -1; at = u.flat.indexOf(needle, at + needle.length))
        spans.push([textStart(u, at), textEnd(u, at + needle.length - 1)]);
    }
  }
  return withoutSpans(text, spans);
}

/**
 * The names looked at (and whether each names a secret), kept while the environment has the same names: secret
 * names, and those holding a URL (a DATABASE_URL may gain a password). Compared as a whole, not counted: a watch
 * session restarted on a .env whose OLD_API_KEY became NEW_API_KEY has as many.
 */
let names: { env: NodeJS.ProcessEnv; all: string; names: string[]; secretNamed: boolean[] } | undefined;

/** The last answer, and the values and keys given in code it was made from: most calls find the same. */
let last:
  | {
      names: NonNullable<typeof names>;
      values: Array<string | undefined>;
      given: number;
      secrets: readonly string[];
    }
  | undefined;

/**
 * The values of the environment's secret-named variables, the passwords in its URLs and the keys given in code
 * (rememberSecrets), longest first. Read at every call: a watch session restarted on a changed .env has new values
 * under the same names.
 */
export function environmentSecrets(env: NodeJS.ProcessEnv = process.env): readonly string[] {
  const all = Object.keys(env);
  const joined = all.join("\n");
  if (names?.env !== env || names.all !== joined) {
    const looked = all.filter((name) => secretName(name) || (env[name] ?? "").includes("://"));
    names = { env, all: joined, names: looked, secretNamed: looked.map(secretName) };
  }
  const values = names.names.map((name) => env[name]);
  const given = givenSecrets();
  if (
    last?.names === names &&
    last.given === given.size &&
    values.every((value, i) => value === last?.values[i])
  )
    return last.secrets;
  const secrets = new Set<string>();
  values.forEach((value, i) => {
    if (value === undefined || names === undefined) return;
    const password = URL_PASSWORD.exec(value)?.[1];
    if (password !== undefined && password.length >= MIN_SECRET) secrets.add(password);
    if (value.length >= MIN_SECRET && names.secretNamed[i] && !NOT_SECRET.test(value.trim())) {
      secrets.add(value);
      // A list of keys (OPENAI_API_KEYS=k1,k2 for rotation): each is quoted alone.
      if (LIST_NAME.test((names.names[i] as string).toUpperCase()))
        for (const part of value.split(/[\s,;]+/)) if (part.length >= MIN_SECRET) secrets.add(part);
    }
  });
  for (const secret of given) secrets.add(secret);
  const sorted = Object.freeze([...secrets].sort((a, b) => b.length - a.length));
  last = { names, values, given: given.size, secrets: sorted };
  return sorted;
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
