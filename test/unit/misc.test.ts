import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cloneProblem } from "../../src/engine/cloneable.js";
import { type ItemContext, isPlainJson, runItem } from "../../src/engine/row.js";
import { Semaphore } from "../../src/engine/semaphore.js";
import type { EvalScorer, EvalScorerArgs, Evaluator } from "../../src/index.js";
import { codeFrame } from "../../src/loader/format-compile.js";
import { readLinesSync } from "../../src/store/lines.js";
import { sqliteProblem } from "../../src/store/sqlite-problem.js";
import { environmentSecrets, redact, rememberSecrets, withoutSecrets } from "../../src/util/secrets.js";
import { userFrame } from "../../src/util/stack.js";
import { closestName } from "../../src/util/suggest.js";

describe("closestName", () => {
  const keys = ["paths", "exclude", "maxConcurrency", "trials", "timeout", "filter"];
  it("suggests likely typos only", () => {
    expect(closestName("maxConcurency", keys)).toBe("maxConcurrency");
    expect(closestName("trails", keys)).toBe("trials");
    expect(closestName("Timeout", keys)).toBe("timeout");
    expect(closestName("somethingElse", keys)).toBeUndefined();
  });
});

describe("codeFrame", () => {
  it("shows the line and a caret under the column", () => {
    expect(
      codeFrame({ text: "x", file: "/a.ts", line: 12, column: 4, lineText: "let a b = 1;", length: 1 }),
    ).toBe("12 | let a b = 1;\n   |     ^");
  });
  it("shows a window of a long line around the column, with the caret under it", () => {
    const lineText = `[${'{"input":1},'.repeat(100_000)}]`;
    const column = lineText.length - 2;
    const frame = codeFrame({
      text: "x",
      file: "/rows.json",
      line: 1,
      column,
      lineText,
      length: 1,
    }) as string;
    expect(frame.length).toBeLessThan(400);
    const [code, marks] = frame.split("\n") as [string, string];
    expect(code.startsWith("1 | …")).toBe(true);
    expect(code.endsWith('{"input":1},]')).toBe(true);
    // The caret is under the trailing comma the message is about.
    expect(code[marks.indexOf("^")]).toBe(",");
  });
});

describe("userFrame", () => {
  it("prefers the given file, then the first frame outside node internals and node_modules", () => {
    const stack = [
      "Error: x",
      "    at inner (/p/node_modules/lib/index.js:1:1)",
      "    at helper (/p/src/helper.ts:3:9)",
      "    at task (/p/evals/a.eval.ts:10:5)",
      "    at node:internal/process/task_queues:95:5",
    ].join("\n");
    expect(userFrame(stack)).toEqual({ file: "/p/src/helper.ts", line: 3, column: 9 });
    expect(userFrame(stack, "/p/evals/a.eval.ts")).toEqual({
      file: "/p/evals/a.eval.ts",
      line: 10,
      column: 5,
    });
    expect(userFrame("Error: no frames")).toBeUndefined();
  });

  it("takes no node-internal frame for a user's file, and reads frames without a function name", () => {
    const internal = [
      "Error: no provider",
      "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
      "    at async Promise.all (index 0)",
    ].join("\n");
    expect(userFrame(internal)).toBeUndefined();
    expect(userFrame("Error: x\n    at /p/evals/b.eval.ts:4:2")).toEqual({
      file: "/p/evals/b.eval.ts",
      line: 4,
      column: 2,
    });
  });
});

describe("Semaphore", () => {
  it("admits max holders and wakes waiters in order", async () => {
    const s = new Semaphore(2);
    expect(s.acquire()).toBeUndefined();
    expect(s.acquire()).toBeUndefined();
    const order: number[] = [];
    const third = s.acquire()?.then(() => order.push(3));
    const fourth = s.acquire()?.then(() => order.push(4));
    expect(s.inFlight).toBe(2);
    s.release();
    await third;
    expect(order).toEqual([3]);
    s.release();
    await fourth;
    expect(order).toEqual([3, 4]);
    expect(s.inFlight).toBe(2);
  });
});

describe("result ids", () => {
  it("are UUID v4 shaped and distinct", async () => {
    const { resultId } = await import("../../src/engine/row-id.js");
    const ids = Array.from({ length: 100_000 }, () => resultId());
    const shape = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(ids.filter((id) => !shape.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    // One counter in the last 12 hex digits, across every 256-id step of its cached stem.
    const counter = (id: string) => Number.parseInt(id.slice(24), 16);
    const steps = ids.slice(1).filter((id, i) => counter(id) !== counter(ids[i] as string) + 1);
    expect(steps).toEqual([]);
  });
});

describe("Braintrust's type names", () => {
  it("type a ported file's scorers as Braintrust's do (a compile-time check)", () => {
    const exact: EvalScorer<string, string, string> = ({
      output,
      expected,
    }: EvalScorerArgs<string, string, string>) => output === expected;
    const evaluator: Evaluator<string, string, string> = {
      data: [],
      task: (input) => input,
      scores: [exact],
    };
    expect(evaluator.scores[0]?.({ input: "a", output: "a", expected: "a", metadata: {} } as never)).toBe(
      true,
    );
  });
});

describe("SQLite failures after the store opened", () => {
  const failure = (code: string, message: string) => Object.assign(new Error(message), { code });
  it("are user errors naming the cause and what to do, not internal errors", () => {
    const busy = sqliteProblem(failure("SQLITE_BUSY", "database is locked"));
    expect(busy?.code).toBe("STORE_UNWRITABLE");
    expect(busy?.message).toContain("locked by another evalrun for more than 10 s");
    expect(busy?.exitCode).toBe(2);
    expect(sqliteProblem(failure("SQLITE_READONLY_DBMOVED", "x"))?.message).toContain("read-only");
    expect(sqliteProblem(failure("SQLITE_CORRUPT", "database disk image is malformed"))?.code).toBe(
      "STORE_INVALID",
    );
    expect(sqliteProblem(failure("SQLITE_FULL", "database or disk is full"))?.hint).toContain(
      "evalrun prune",
    );
    // Anything else is a bug, shown with its trace.
    expect(sqliteProblem(failure("SQLITE_ERROR", "no such column: x"))).toBeUndefined();
    expect(sqliteProblem(new TypeError("x is not a function"))).toBeUndefined();
  });
});

describe("a row whose run was hard-stopped while its task ran", () => {
  it("is not scored when the task finishes anyway: its result is dropped, and judges cost money", async () => {
    const hardStop = new AbortController();
    let scored = 0;
    let finish: (value: string) => void = () => {};
    const ctx = {
      evaluator: {
        data: [],
        task: () => new Promise<string>((resolve) => (finish = resolve)),
        scores: [
          () => {
            scored++;
            return 1;
          },
        ],
      },
      scorerNames: ["s"],
      timeout: undefined,
      hardStop: hardStop.signal,
    } as unknown as ItemContext;
    const outcome = runItem(ctx, { row: { input: 1 }, key: "k", rowIndex: 0, trial: 0 });
    hardStop.abort();
    finish("late");
    await outcome;
    expect(scored).toBe(0);
  });
});

describe("readLinesSync", () => {
  it("reads JSON Lines: \\n or \\r\\n ends, characters split across chunks whole, no end needed", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "evalrun-lines-"));
    try {
      const file = path.join(dir, "rows.jsonl");
      // The emoji's four bytes straddle the first 64 KiB chunk's end.
      const long = `${"x".repeat(65_534)}😀y`;
      writeFileSync(file, `a\r\n\nb\n${long}\nlast\r`);
      expect([...readLinesSync(file)]).toEqual(["a", "", "b", long, "last"]);
      writeFileSync(file, "");
      expect([...readLinesSync(file)]).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("secrets", () => {
  it("takes out keys, not a local server's placeholder that is also its host", () => {
    expect(redact("http://ollama:11434/v1 refused the key ollama", ["ollama"])).toBe(
      "http://ollama:11434/v1 refused the key ollama",
    );
    expect(redact("401 for sk-abcdef123456 (sk-abcdef123456)", ["sk-abcdef123456"])).toBe(
      "401 for [redacted] ([redacted])",
    );
  });

  it("finds secret-named variables' values, longest first, and no others", () => {
    const env = {
      OPENAI_API_KEY: "sk-0123456789",
      GITHUB_TOKEN: "ghp_0123456789abcdef",
      DB_PASSWORD: "hunter2hunter2",
      MODEL: "gpt-4o-mini-long",
      MONKEY: "not-a-secret-value",
      SHORT_TOKEN: "abc",
    };
    expect(environmentSecrets(env)).toEqual(["ghp_0123456789abcdef", "hunter2hunter2", "sk-0123456789"]);
  });

  it("knows secrets by other names too, not paths or plain URLs, and reads changed values", () => {
    const env: NodeJS.ProcessEnv = {
      PGPASSWORD: "pg-password-1",
      MYSQL_PWD: "mysql-pwd-22",
      DATABASE_URL: "postgres://app:db-pass-333@db.internal:5432/app",
      GOOGLE_APPLICATION_CREDENTIALS: "/home/ci/gcp-sa.json",
      SSH_AUTH_SOCK: "/tmp/ssh-XXXX/agent.1234",
      AUTH_URL: "https://auth.example.com/login",
      OPENAI_API_KEY: "sk-first-aaaaaaaa",
    };
    expect([...environmentSecrets(env)].sort()).toEqual(
      ["db-pass-333", "mysql-pwd-22", "pg-password-1", "sk-first-aaaaaaaa"].sort(),
    );
    // A watch session restarted on an edited .env: the same names, new values.
    env.OPENAI_API_KEY = "sk-second-bbbbbbbb";
    expect(environmentSecrets(env)).toContain("sk-second-bbbbbbbb");
    expect(environmentSecrets(env)).not.toContain("sk-first-aaaaaaaa");
    // A variable set by code since.
    env.ANTHROPIC_API_KEY = "sk-ant-cccccccc";
    expect(environmentSecrets(env)).toContain("sk-ant-cccccccc");
    // A .env whose OLD_SERVICE_API_KEY became NEW_SERVICE_API_KEY: as many names, one of them new.
    delete env.ANTHROPIC_API_KEY;
    env.MISTRAL_API_KEY = "mistral-ffffffff";
    expect(environmentSecrets(env)).toContain("mistral-ffffffff");
    // A URL that gains a password under the same name.
    env.CACHE_URL = "redis://cache.internal:6379";
    expect(environmentSecrets(env)).not.toContain("cache-pass-4444");
    env.CACHE_URL = "redis://default:cache-pass-4444@cache.internal:6379";
    expect(environmentSecrets(env)).toContain("cache-pass-4444");
  });

  it("takes out a key echoed JSON-escaped (once or twice over) or without the whitespace HTTP trimmed", () => {
    const key = 'sk-LEAK/TEST+abc=01"23\\x';
    // As PHP's json_encode writes it (`\/`) with .NET's `\u002B`: once escaped; and that text quoted in a message.
    const body = JSON.stringify({ received: `Bearer ${key}` })
      .replace(/\//g, "\\/")
      .replace("+", "\\u002B");
    expect(body).not.toContain(key);
    expect(redact(body, [key])).toBe('{"received":"Bearer [redacted]"}');
    expect(redact(JSON.stringify(body), [key])).toBe(JSON.stringify('{"received":"Bearer [redacted]"}'));
    expect(redact(JSON.stringify({ key }), [key])).toBe('{"key":"[redacted]"}');
    // A multi-line key (a PEM) escaped by JSON, twice over too.
    const pem = "-----BEGIN KEY-----\nMIIEabc123\n-----END KEY-----";
    expect(redact(JSON.stringify({ pem }), [pem])).toBe('{"pem":"[redacted]"}');
    expect(redact(JSON.stringify(JSON.stringify({ pem })), [pem])).toBe(
      JSON.stringify('{"pem":"[redacted]"}'),
    );
    expect(redact("Incorrect API key provided: sk-trailing-0123456789.", ["sk-trailing-0123456789\n"])).toBe(
      "Incorrect API key provided: [redacted].",
    );
    expect(redact("GET /v1?key=sk-LEAK%2FTEST%2Babc%3D01%2223%5Cx", [key])).toBe("GET /v1?key=[redacted]");
    expect(redact("GET /v1?key=sk-LEAK/TEST%2babc%3d01%2223%5cx", [key])).toBe("GET /v1?key=[redacted]");
    // Other encoders: RFC 3986's !'()* and PHP's ~, a URL inside another's query, PHP's JSON in a query string.
    const password = "Tr0ub4dor!(x)*'~2024";
    expect(redact("POST /login?pw=Tr0ub4dor%21%28x%29%2A%27~2024", [password])).toBe(
      "POST /login?pw=[redacted]",
    );
    expect(redact("POST /login?pw=Tr0ub4dor%21%28x%29%2A%27%7E2024", [password])).toBe(
      "POST /login?pw=[redacted]",
    );
    const base64 = "Zq3dEf9h/IjKlMn0+QrStUvWx4Y=";
    expect(
      redact("GET /?target=https%3A%2F%2Fa.example%2Fv1%3Fkey%3DZq3dEf9h%252FIjKlMn0%252BQrStUvWx4Y%253D", [
        base64,
      ]),
    ).toBe("GET /?target=https%3A%2F%2Fa.example%2Fv1%3Fkey%3D[redacted]");
    expect(redact("/cb?state=%7B%22key%22%3A%22Zq3dEf9h%5C%2FIjKlMn0%2BQrStUvWx4Y%3D%22%7D", [base64])).toBe(
      "/cb?state=%7B%22key%22%3A%22[redacted]%22%7D",
    );
    // A key of backslashes in a row, against a text of them: no time blown up on ways to split the run.
    const slashes = `sk-${"\\".repeat(12)}-0123`;
    expect(redact(`${"\\".repeat(5_000)}u`, [slashes])).toBe(`${"\\".repeat(5_000)}u`);
    // An emoji written as its two \u escapes (PHP, .NET); a quote escaped by one encoder and \u0022 by the next.
    expect(redact('{"k":"sk-proj-\\ud83d\\ude00Xy7AbCdEf"}', ["sk-proj-😀Xy7AbCdEf"])).toBe(
      '{"k":"[redacted]"}',
    );
    expect(redact('"pa\\\\\\u0022ss-word1234"', ['pa"ss-word1234'])).toBe('"[redacted]"');
    // Percent-encoded with / kept, then escaped by PHP; a key starting with / takes its backslash with it.
    expect(redact("https:\\/\\/h\\/o?s=ab\\/cd%2Bef%3Dgh", ["ab/cd+ef=gh"])).toBe(
      "https:\\/\\/h\\/o?s=[redacted]",
    );
    expect(JSON.parse(redact('{"e":"bad key \\/K7MDENG+bPxRfiCY"}', ["/K7MDENG+bPxRfiCY"]))).toEqual({
      e: "bad key [redacted]",
    });
    // After a backslash of the text's own (a Windows path), a key starting n, r, t, b or f, and the path kept whole.
    expect(redact("C:\\keys\\nB3dAbCdEfGh12", ["nB3dAbCdEfGh12"])).toBe("C:\\keys\\[redacted]");
    expect(redact("C:\\keys\\sk-AbCdEfGh12 \\/", ["sk-AbCdEfGh12"])).toBe("C:\\keys\\[redacted] \\/");
    expect(redact(JSON.stringify("C:\\keys\\sk-AbCdEfGh12"), ["sk-AbCdEfGh12"])).toBe(
      JSON.stringify("C:\\keys\\[redacted]"),
    );
    // An escaped key in a text that also holds paths, quotes and newlines (which alone need no reading through).
    expect(
      redact('{"p":"C:\\\\Users\\\\me","e":"bad \\"key\\"\\n \\/K7MDENG+bPxRfiCY"}', ["/K7MDENG+bPxRfiCY"]),
    ).toBe('{"p":"C:\\\\Users\\\\me","e":"bad \\"key\\"\\n [redacted]"}');
    expect(redact("bad key sk\u002DAbCdEfGh12 at C:\\x", ["sk-AbCdEfGh12"])).toBe(
      "bad key [redacted] at C:\\x",
    );
    // Two keys sharing a part go as one, with or without escapes in the text.
    const overlapping = ["abcdefgh12345678", "12345678ijklmnopqrst"];
    expect(redact("x: abcdefgh12345678ijklmnopqrst", overlapping)).toBe("x: [redacted]");
    expect(redact("C:\\logs\\x: abcdefgh12345678ijklmnopqrst", overlapping)).toBe("C:\\logs\\x: [redacted]");
    expect(redact('{"e":"\\/abcdefgh12345678ijklmnopqrst"}', ["/abcdefgh12345678", ...overlapping])).toBe(
      '{"e":"[redacted]"}',
    );
    // A key that reads "redacted" is not found again in what took another out.
    expect(redact("sk-0123456789 redacted", ["sk-0123456789", "redacted"])).toBe("[redacted] [redacted]");
    // A key of backslashes alone, as it is in a text with other backslashes.
    expect(redact("C:\\x \\\\\\\\\\\\\\\\ y", ["\\\\\\\\\\\\\\\\"])).toBe("C:\\x [redacted] y");
    // Text with backslashes but not the key is left as it is.
    expect(redact('C:\\keys\\sk-other "x"', [key])).toBe('C:\\keys\\sk-other "x"');
  });

  it("reads lists of keys and base64 keys that start with a slash, and keeps paths readable", () => {
    const env: NodeJS.ProcessEnv = {
      OPENAI_API_KEYS: "sk-one-11111111,sk-two-22222222",
      AWS_SECRET_ACCESS_KEY: "/LEAKaws+wJalrXUtnFEMIK7MDENGbPxRfiCYEXAM",
      GOOGLE_APPLICATION_CREDENTIALS: "/home/ci/gcp-sa.json",
    };
    const secrets = environmentSecrets(env);
    expect(secrets).toEqual(
      expect.arrayContaining([
        "sk-one-11111111",
        "sk-two-22222222",
        "/LEAKaws+wJalrXUtnFEMIK7MDENGbPxRfiCYEXAM",
      ]),
    );
    expect(secrets).not.toContain("/home/ci/gcp-sa.json");
    // The shell's directories are paths, with a + in them too; a list is split only under a name for several keys.
    const others = environmentSecrets({
      PWD: "/home/me/c++/proj",
      OLDPWD: "/home/me/a=b",
      C_PATH_TOKEN: "/opt/c++/lib",
      AUTH_REDIRECT: "/auth?provider=github",
      TOKEN_SCOPES: "repo read:org workflow",
      MYSQL_PWD: "mysql-pwd-22",
    });
    expect([...others].sort()).toEqual(["mysql-pwd-22", "repo read:org workflow"]);
  });

  it("takes out keys given in code (init, a client, a scorer's options) as the environment's", () => {
    const env = { OPENAI_API_KEY: "sk-env-eeeeeeee" };
    expect(environmentSecrets(env)).toEqual(["sk-env-eeeeeeee"]);
    rememberSecrets(["sk-given-in-code-123", "short"]);
    // Given since the last call.
    expect(environmentSecrets(env)).toEqual(["sk-given-in-code-123", "sk-env-eeeeeeee"]);
    expect(withoutSecrets('threw an object {"key":"sk-given-in-code-123"}')).toBe(
      'threw an object {"key":"[redacted]"}',
    );
    expect(environmentSecrets({})).not.toContain("short");
  });
});

describe("isPlainJson (whether --retry-errors may score a stored output instead of the task's)", () => {
  it("takes what JSON keeps as it is, and nothing JSON alters", () => {
    for (const kept of ["a", 1, 0, true, null, [1, "a", [null]], { a: { b: [1, 2] } }, Object.create(null)])
      expect(isPlainJson(kept)).toBe(true);
    class Answer {
      constructor(readonly text: string) {}
    }
    class Items extends Array<number> {}
    const named = Object.assign([1], { extra: 2 });
    const hidden = Object.defineProperty({ a: 1 }, "b", { value: 2, enumerable: false });
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const altered of [
      undefined,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      -0,
      10n,
      new Date(0),
      new Map([["a", 1]]),
      new Answer("x"),
      Items.from([1]),
      named,
      hidden,
      { a: undefined },
      { [Symbol("s")]: 1 },
      // biome-ignore lint/suspicious/noSparseArray: a hole, which JSON writes as null
      [1, , 3],
      [() => 1],
      cycle,
    ])
      expect(isPlainJson(altered), String(altered)).toBe(false);
  });
});

describe("cloneProblem", () => {
  it("lets plain errors go to a thread, not ones a thread would receive changed", () => {
    expect(cloneProblem(new TypeError("bad", { cause: new RangeError("root") }), "row 0")).toBeUndefined();
    expect(cloneProblem(Object.assign(new Error("gone"), { status: 410 }), "row 0.expected")).toBe(
      "row 0.expected is an Error with fields of its own (status)",
    );
    const renamed = new Error("x");
    renamed.name = "RateLimit";
    expect(cloneProblem({ e: renamed }, "row 1")).toBe("row 1.e is an Error with fields of its own (name)");
    class HttpError extends Error {}
    expect(cloneProblem(new Error("outer", { cause: new HttpError("inner") }), "row 2")).toBe(
      "row 2.cause is an instance of HttpError",
    );
    expect(cloneProblem(new AggregateError([1], "all"), "row 3")).toBe(
      "row 3 is an instance of AggregateError",
    );
    const tagged = Object.assign(new Error("x"), { [Symbol.for("status")]: 1 });
    expect(cloneProblem(tagged, "row 4")).toBe("row 4 is an Error with fields of its own (Symbol(status))");
  });
});
