import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it, vi } from "vitest";
import { rowKey } from "../../src/engine/row-key.js";
import type { RowResult } from "../../src/engine/types.js";
import { Experiments } from "../../src/store/experiments.js";
import { openStore } from "../../src/store/open.js";
import { RowWriter, storedRows } from "../../src/store/rows.js";
import { migrate, SCHEMA_VERSION } from "../../src/store/schema.js";
import { newExperiment } from "../helpers/store.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function result(i: number, input: unknown, output: unknown, expected: unknown): RowResult {
  return {
    id: `r${i}`,
    input,
    output,
    expected,
    scores: { s: 1 },
    metadata: {},
    tags: [],
    metrics: { start: 1, end: 2, duration: 1 },
    row_key: `h:${i}`,
    row_index: i,
    trial_index: 0,
  };
}

const big = (i: number) => `${String(i).padStart(6, "0")}${"lorem ipsum dolor sit amet ".repeat(20)}`;

describe("large values", () => {
  it("are stored once by content and read back exactly", () => {
    const { db } = openStore(false);
    const a = newExperiment(db, "a");
    const rows = [
      result(0, big(0), big(0), big(0)), // output and expected equal the input: one blob
      result(1, big(1), { answer: big(1), n: 1 }, "short"), // an object output of its own
      result(2, "small", "small", null), // nothing large: inline
      result(3, 'quote " and \\ backslash\n'.repeat(20), "x", undefined),
    ];
    const writer = new RowWriter(db, a.seq);
    for (const r of rows) writer.write(r);
    writer.close();
    expect(db.prepare("SELECT count(*) FROM blobs").pluck().get()).toBe(4);
    const back = [...storedRows(db, a.seq)];
    for (const [i, r] of rows.entries()) {
      expect(back[i]).toEqual(JSON.parse(JSON.stringify(r)));
    }
    // The same data again (a re-run): no new blobs.
    const b = newExperiment(db, "b");
    const again = new RowWriter(db, b.seq);
    for (const r of rows) again.write({ ...r, id: `again-${r.id}` });
    again.close();
    expect(db.prepare("SELECT count(*) FROM blobs").pluck().get()).toBe(4);
    expect([...storedRows(db, b.seq)].map((r) => r.output)).toEqual(rows.map((r) => r.output));
    db.close();
  });
});

describe("large strings", () => {
  it("are stored as themselves, not as JSON, and read back exactly; one SQLite cannot keep stays JSON", () => {
    const { db } = openStore(false);
    const a = newExperiment(db, "a");
    const long = (s: string) => s.repeat(Math.ceil(300 / s.length));
    const values = [
      long("plain text "),
      long('quote " backslash \\ newline\n tab\t '),
      `~${long("starts with the mark ")}`,
      long("nul \u0000 inside "),
      long("é 中 😀 "),
      long("lone \ud800 surrogate "),
    ];
    const writer = new RowWriter(db, a.seq);
    for (const [i, v] of values.entries()) writer.write(result(i, v, v, v));
    writer.close();
    const back = [...storedRows(db, a.seq)];
    expect(back.map((r) => [r.input, r.output, r.expected])).toEqual(values.map((v) => [v, v, v]));
    const texts = db.prepare("SELECT json FROM blobs ORDER BY rowid").pluck().all() as string[];
    expect(texts).toEqual([...values.slice(0, 5).map((v) => `~${v}`), JSON.stringify(values[5])]);
    db.close();
  });

  it("keeps strings that UTF-8 would make equal apart: a lone surrogate, U+FFFD, another lone surrogate", () => {
    const { db } = openStore(false);
    const a = newExperiment(db, "a");
    // Text cut in the middle of an emoji, beside what a lossy decoder makes of it: UTF-8 turns both into U+FFFD.
    const prefix = "x".repeat(300);
    const values = [`${prefix}\ud83d`, `${prefix}\ufffd`, `${prefix}\udc00`, "\ud800".repeat(300)];
    const writer = new RowWriter(db, a.seq);
    for (const [i, v] of values.entries()) writer.write(result(i, v, v, v));
    writer.close();
    expect([...storedRows(db, a.seq)].map((r) => r.output)).toEqual(values);
    expect(db.prepare("SELECT count(*) FROM blobs").pluck().get()).toBe(4);
    expect(new Set(values.map((v) => rowKey({ input: v }))).size).toBe(4);
    // A well-formed string keeps the key it always had: NUL, then the string, hashed.
    const plain = "row 1";
    expect(rowKey({ input: plain })).toBe(
      `h:${createHash("sha1").update(`\u0000${plain}`).digest("hex").slice(0, 16)}`,
    );
    db.close();
  });
});

/** A path for a store file `name` in a directory of its own, removed after the tests. */
function storeFile(name: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "evalrun-migrate-"));
  dirs.push(dir);
  return path.join(dir, name);
}

/** A store file left at schema `version`, as an older evalrun made it, and a connection to it. */
function storeAt(version: number): { file: string; old: Database.Database } {
  const file = storeFile(`v${version}.db`);
  const old = new Database(file);
  migrate(old, undefined, version);
  return { file, old };
}

/** An experiment in a store of an older schema, with the columns every schema has (newExperiment writes today's). */
function legacyExperiment(db: Database.Database, name: string): { seq: number } {
  const { lastInsertRowid } = db
    .prepare(
      `INSERT INTO experiments (id, project, name, created, status, evalrun_version, trial_count)
       VALUES (?, 'p', ?, '2026-01-01T00:00:00.000Z', 'complete', 'old', 1)`,
    )
    .run(`legacy-${name}`, name);
  return { seq: Number(lastInsertRowid) };
}

describe("schema migrations", () => {
  it("moves a schema-1 store forward and keeps its rows readable", () => {
    const { file, old } = storeAt(1);
    const legacy = legacyExperiment(old, "legacy");
    const event = JSON.stringify(result(0, big(7), big(7), big(7)));
    const { lastInsertRowid } = old
      .prepare(
        "INSERT INTO rows (exp, id, row_key, row_index, trial_index, errored, scores) VALUES (?, 'r0', 'h:0', 0, 0, 0, '{\"s\":1}')",
      )
      .run(legacy.seq);
    old.prepare("INSERT INTO events (rid, event) VALUES (?, ?)").run(lastInsertRowid, event);
    // Rows keyed by an id, or by a non-string input, kept the same keys in schema 2.
    const others: Array<[string, unknown]> = [
      ["id:q1", "text with an id"],
      ["h:objectkey", { q: 1 }],
    ];
    for (const [key, input] of others) {
      const row = old
        .prepare(
          "INSERT INTO rows (exp, id, row_key, row_index, trial_index, errored, scores) VALUES (?, 'r', ?, 1, 0, 0, '{}')",
        )
        .run(legacy.seq, key);
      old
        .prepare("INSERT INTO events (rid, event) VALUES (?, ?)")
        .run(row.lastInsertRowid, JSON.stringify({ input }));
    }
    old.close();

    const said = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const { db } = openStore(file);
    // An upgrade can take a while on a big store: it is said, so the wait is not taken for a hang.
    expect(String(said.mock.calls[0]?.[0])).toContain(
      `upgrading the store ${file} (schema 1 → ${SCHEMA_VERSION})`,
    );
    said.mockRestore();
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    expect([...storedRows(db, legacy.seq)][0]).toEqual({
      ...JSON.parse(event),
      row_key: rowKey({ input: big(7) }),
    });
    // A string input's key is today's, so this history matches (and resumes against) new runs.
    const keys = db
      .prepare("SELECT row_key FROM results WHERE exp = ? ORDER BY rowid")
      .pluck()
      .all(legacy.seq);
    expect(keys).toEqual([rowKey({ input: big(7) }), "id:q1", "h:objectkey"]);
    // Its pages stay the size it was made with: only a new store takes evalrun's.
    expect(db.pragma("page_size", { simple: true })).toBe(4096);
    db.close();
  });

  it("reads the strings a schema-4 store keeps as JSON", () => {
    const { file, old } = storeAt(4);
    const legacy = legacyExperiment(old, "legacy");
    const value = `~${big(4)} "quoted"`;
    old.prepare("INSERT INTO blobs (hash, json) VALUES ('d4', ?)").run(JSON.stringify(value));
    old
      .prepare(
        `INSERT INTO results (exp, id, row_key, row_index, trial_index, errored, scores, input_ref, output_ref)
         VALUES (?, 'r0', 'h:0', 0, 0, 0, '{"s":1}', 'd4', 'd4')`,
      )
      .run(legacy.seq);
    old.close();

    const { db } = openStore(file);
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    const [row] = [...storedRows(db, legacy.seq)];
    expect([row?.input, row?.output]).toEqual([value, value]);
    db.close();
  });

  it("makes a new store with 8 KB pages, which hold 1 KB blobs with less left empty than 4 KB pages", () => {
    const { db } = openStore(storeFile("new.db"));
    expect(db.pragma("page_size", { simple: true })).toBe(8_192);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
  });

  it("opens a current store without its write lock, so a writer mid-transaction does not hold others up", () => {
    const file = storeFile("current.db");
    openStore(file).db.close();
    const writer = new Database(file);
    writer.prepare("BEGIN IMMEDIATE").run();
    try {
      // Migrating would wait for this lock (10 s) and then fail with "database is locked".
      const { db } = openStore(file);
      expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
      db.close();
    } finally {
      writer.prepare("ROLLBACK").run();
      writer.close();
    }
  });
});

describe("resuming", () => {
  it("lets one process take an interrupted experiment over, and tells a second it was taken", () => {
    const file = storeFile("resume.db");
    const first = openStore(file).db;
    const second = openStore(file).db;
    const experiment = newExperiment(first, "run");
    // A run its data stopped: the resume is a new attempt, which may end otherwise (killed, complete).
    first
      .prepare("UPDATE experiments SET status = 'interrupted', failure = '[BAD_DATA] db down' WHERE seq = ?")
      .run(experiment.seq);
    expect(new Experiments(first).reopen(experiment.seq)).toBe(true);
    expect(new Experiments(second).reopen(experiment.seq)).toBe(false);
    expect(
      first.prepare("SELECT status, owner_pid, failure FROM experiments WHERE seq = ?").get(experiment.seq),
    ).toEqual({
      status: "running",
      owner_pid: process.pid,
      failure: null,
    });
    first.close();
    second.close();
  });

  it("takes another host's run for abandoned once it has written nothing for an hour", () => {
    const file = storeFile("hosts.db");
    const db = openStore(file).db;
    const quiet = newExperiment(db, "quiet");
    const busy = newExperiment(db, "busy");
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000).toISOString();
    const set = db.prepare(
      "UPDATE experiments SET owner_host = 'container-abc123', owner_pid = 1, created = ? WHERE seq = ?",
    );
    set.run(twoHoursAgo, quiet.seq);
    set.run(new Date().toISOString(), busy.seq);
    db.close();
    const reopened = openStore(file).db;
    const status = reopened.prepare("SELECT name, status FROM experiments ORDER BY seq").all();
    expect(status).toEqual([
      { name: "quiet", status: "interrupted" },
      { name: "busy", status: "running" },
    ]);
    reopened.close();
  });
});
