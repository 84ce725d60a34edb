import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ownEntry } from "../util/own-package.js";
import { closestName } from "../util/suggest.js";
import type { Problem } from "./problems.js";

/**
 * An import of a name a module does not export (a typo, or an autoevals scorer evalrun lacks) fails while Node
 * links the file, before any of it runs: the error's stack points into the compiled bundle, not the .eval.ts, and
 * its message names the module by URL. Says which module, which name, the likely one meant, and the import's line.
 */
const MISSING = /does not provide an export named '([^']+)'/;
const MODULE = /The requested module '([^']+)'/;

export async function missingExportProblem(file: string, error: unknown): Promise<Problem | undefined> {
  if (!(error instanceof SyntaxError)) return undefined;
  const name = MISSING.exec(error.message)?.[1];
  const url = MODULE.exec(error.message)?.[1];
  if (name === undefined || url === undefined) return undefined;
  const own = url.startsWith("file:") && fileURLToPath(url) === ownEntry();
  const shown = own ? "evalrun" : url.startsWith("file:") ? shortPath(fileURLToPath(url)) : url;
  let exports: string[] = [];
  let atRunTime = false;
  try {
    const namespace = (await import(url)) as { default?: unknown };
    exports = Object.keys(namespace).filter((key) => key !== "default");
    // A CommonJS module that sets the name at run time (lodash): Node's ES loader only sees names it can detect in
    // the source, so the name is there on module.exports, the default export, and nowhere else.
    const value = namespace.default;
    atRunTime =
      !own && (typeof value === "object" || typeof value === "function") && value !== null && name in value;
  } catch {
    // The module did not load either: no suggestion, the message still names what is missing.
  }
  const near = closestName(name, exports);
  const at = importLine(file, name);
  if (atRunTime) {
    const pkg = url.startsWith("file:") ? packageName(fileURLToPath(url)) : url;
    // A name for the default import: the package's, camel-cased (`runtime-cjs` → runtimeCjs).
    const camel = (pkg.split("/").at(-1) ?? "").replace(
      /[^\w$]+(.)?/g,
      (_, c?: string) => c?.toUpperCase() ?? "",
    );
    const local = /^[A-Za-z_$]/.test(camel) ? camel : "pkg";
    return {
      code: "LOAD",
      file,
      line: at?.line,
      column: at?.column,
      message: `Failed to load: "${shown}" is a CommonJS module whose "${name}" Node cannot see from an ES module (the module sets it at run time), so it cannot be imported by name.`,
      hint: `Import its default export and take the name from it: import ${local} from "${pkg}"; const { ${name} } = ${local}; (code compiled to require(), as Braintrust's CLI does, can; eval files load as ES modules, which cannot).`,
    };
  }
  return {
    code: "LOAD",
    file,
    line: at?.line,
    column: at?.column,
    message: `Failed to load: "${shown}" has no export named "${name}"${near ? ` (did you mean "${near}"?)` : ""}.`,
    hint: own
      ? `${elsewhere(name) ?? ""}evalrun exports: ${exports.sort().join(", ")}. Import anything else from the package that has it.`
      : "Check the name against what that module exports; the other files still ran.",
  };
}

// autoevals scorers evalrun does not have (they call hosted APIs, or need RAG context evalrun does not model).
const AUTOEVALS_ONLY = new Set([
  "AnswerCorrectness",
  "AnswerRelevancy",
  "AnswerSimilarity",
  "ContextEntityRecall",
  "ContextPrecision",
  "ContextRecall",
  "ContextRelevancy",
  "Faithfulness",
  "LLMClassifierFromSpecFile",
  "Moderation",
  "OpenAIClassifier",
]);

// Braintrust SDK names for tracing and hosted data, which a file ported by changing its import still names.
const TRACING = [
  "wrapGoogleGenAI",
  "wrapMastraAgent",
  "wrapClaudeAgentSDK",
  "startSpanWithParents",
  "logError",
];

/** Where a name evalrun lacks comes from, and what to do instead; undefined for a plain typo. */
function elsewhere(name: string): string | undefined {
  if (AUTOEVALS_ONLY.has(name)) {
    return `"${name}" is an autoevals scorer evalrun does not have: import it from "autoevals" (npm i -D autoevals); it runs in evalrun as it is, with autoevals' own provider settings (OPENAI_API_KEY and OPENAI_BASE_URL, or autoevals' init()), not EVALRUN_LLM_*. `;
  }
  if (TRACING.includes(name)) {
    return `"${name}" is Braintrust's tracing, which evalrun does not record: use the client or function itself (evalrun's wrapOpenAI(client) is client, traced(fn) is fn(span)). `;
  }
  if (name === "initDataset") {
    return `"initDataset" reads a Braintrust-hosted dataset: evalrun reads local data (loadJsonl, loadJson, loadCsv, or an array). `;
  }
  return undefined;
}

/** The package a file of node_modules belongs to (`lodash`, `@scope/name`), or the file itself. */
function packageName(file: string): string {
  const parts = file.split(path.sep);
  const at = parts.lastIndexOf("node_modules");
  if (at < 0) return shortPath(file);
  const first = parts[at + 1] ?? "";
  return first.startsWith("@") ? `${first}/${parts[at + 2] ?? ""}` : first;
}

function shortPath(file: string): string {
  const inModules = file.lastIndexOf(`${path.sep}node_modules${path.sep}`);
  return inModules >= 0 ? file.slice(inModules + 14) : path.relative(process.cwd(), file) || file;
}

/** Where `name` is imported in the source: the first line of an import statement that names it. */
function importLine(file: string, name: string): { line: number; column: number } | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const word = new RegExp(`\\b${name.replace(/[$]/g, "\\$")}\\b`);
  let inImport = false;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (/^\s*import\b/.test(line)) inImport = true;
    if (inImport) {
      const match = word.exec(line);
      if (match) return { line: i + 1, column: match.index + 1 };
      if (/\bfrom\s*["']|^\s*import\s*["']/.test(line)) inImport = false;
    }
  }
  return undefined;
}
