import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import {
  cachedBundle,
  pruneBundles,
  rememberBundle,
  resetPruned,
  UNUSED_FOR_MS,
} from "../../src/loader/bundle-cache.js";

const DAY = 86_400_000;

function age(file: string, ms: number): void {
  const then = (Date.now() - ms) / 1000;
  utimesSync(file, then, then);
}

/** A project with one eval file, and an empty cache directory. */
function setup() {
  const root = mkdtempSync(path.join(os.tmpdir(), "evalrun-bundle-cache-"));
  const project = path.join(root, "project");
  const cache = path.join(root, "bundles");
  mkdirSync(project);
  mkdirSync(cache);
  const source = path.join(project, "a.eval.ts");
  writeFileSync(source, "export {};\n");
  return { cache, source };
}

beforeEach(() => resetPruned());

describe("the compiled-bundle cache", () => {
  it("removes what no run used for a week when a new bundle is written, and keeps the rest", async () => {
    const { cache, source } = setup();
    const old = path.join(cache, "old_eval_ts-1111.mjs");
    const oldManifest = path.join(cache, "2222.json");
    const recent = path.join(cache, "recent_eval_ts-3333.mjs");
    const leftover = path.join(cache, "x_eval_ts-4444.mjs.123.tmp");
    for (const f of [old, oldManifest, recent, leftover]) writeFileSync(f, "");
    age(old, UNUSED_FOR_MS + DAY);
    age(oldManifest, UNUSED_FOR_MS + DAY);
    age(recent, UNUSED_FOR_MS - DAY);
    age(leftover, 2 * DAY);

    const bundle = path.join(cache, "a_eval_ts-5555.mjs");
    writeFileSync(bundle, "export {};\n");
    // The run that compiled prunes, before its run goes on.
    await rememberBundle(cache, source, bundle, [source]);
    expect(existsSync(old) || existsSync(oldManifest) || existsSync(leftover)).toBe(false);

    expect(readdirSync(cache).sort()).toEqual(
      [
        ".last-prune",
        path.basename(recent),
        path.basename(bundle),
        readdirSync(cache).find((f) => f.endsWith(".json")),
      ].sort(),
    );
    expect(cachedBundle(cache, source)?.bundle).toBe(bundle);
    // Not again the same day, even from another process.
    resetPruned();
    age(recent, UNUSED_FOR_MS + DAY);
    expect(pruneBundles(cache)).toBe(0);
    expect(existsSync(recent)).toBe(true);
  });

  it("marks a reused bundle and its manifest as used, so a week-old bundle still in use is kept", async () => {
    const { cache, source } = setup();
    const bundle = path.join(cache, "a_eval_ts-6666.mjs");
    writeFileSync(bundle, "export {};\n");
    await rememberBundle(cache, source, bundle, [source]);
    const manifest = readdirSync(cache).find((f) => f.endsWith(".json")) as string;
    age(bundle, UNUSED_FOR_MS - DAY);
    age(path.join(cache, manifest), UNUSED_FOR_MS - DAY);

    expect(cachedBundle(cache, source)?.bundle).toBe(bundle);
    expect(Date.now() - statSync(bundle).mtimeMs).toBeLessThan(DAY);
    expect(Date.now() - statSync(path.join(cache, manifest)).mtimeMs).toBeLessThan(DAY);

    resetPruned(cache);
    expect(pruneBundles(cache, Date.now() + 2 * DAY)).toBe(0);
    expect(existsSync(bundle)).toBe(true);
    expect(cachedBundle(cache, source)?.bundle).toBe(bundle);
  });

  it("keeps an unchanged bundle that is written again (same content, same name) whatever its age", async () => {
    const { cache, source } = setup();
    const bundle = path.join(cache, "a_eval_ts-7777.mjs");
    writeFileSync(bundle, "export {};\n");
    age(bundle, UNUSED_FOR_MS + DAY);
    await rememberBundle(cache, source, bundle, [source]);
    resetPruned(cache);
    pruneBundles(cache);
    expect(existsSync(bundle)).toBe(true);
  });

  it("is stale when a tsconfig the eval's extends, or an input's package's package.json, changes", async () => {
    const { cache, source } = setup();
    const project = path.dirname(source);
    writeFileSync(
      path.join(project, "tsconfig.base.json"),
      '{ "compilerOptions": { "paths": { "@/*": ["v1/*"] } } }\n',
    );
    // JSON with comments, as tsconfigs are written.
    writeFileSync(
      path.join(project, "tsconfig.json"),
      '{\n  // shared settings\n  "extends": "./tsconfig.base.json",\n}\n',
    );
    const sibling = path.join(path.dirname(project), "core");
    mkdirSync(path.join(sibling, "src"), { recursive: true });
    writeFileSync(path.join(sibling, "package.json"), '{ "name": "core", "exports": "./src/index.ts" }\n');
    const input = path.join(sibling, "src", "index.ts");
    writeFileSync(input, "export const x = 1;\n");
    const bundle = path.join(cache, "a_eval_ts-1.mjs");
    writeFileSync(bundle, "export {};\n");
    await rememberBundle(cache, source, bundle, [source, input]);
    expect(cachedBundle(cache, source)?.bundle).toBe(bundle);
    const later = (file: string, text: string) => {
      writeFileSync(file, text);
      const t = Date.now() / 1000 + 5;
      utimesSync(file, t, t);
    };
    later(
      path.join(project, "tsconfig.base.json"),
      '{ "compilerOptions": { "paths": { "@/*": ["v2/*"] } } }\n',
    );
    expect(cachedBundle(cache, source)).toBeUndefined();
    await rememberBundle(cache, source, bundle, [source, input]);
    expect(cachedBundle(cache, source)?.bundle).toBe(bundle);
    later(path.join(sibling, "package.json"), '{ "name": "core", "exports": "./src/other.ts" }\n');
    expect(cachedBundle(cache, source)).toBeUndefined();
  });
});
