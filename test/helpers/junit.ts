/**
 * A strict check of JUnit XML: well-formedness by fast-xml-parser's validator, then the structure of Jenkins'
 * junit-10.xsd, which GitLab, Jenkins, CircleCI, Azure Pipelines and GitHub's test-report actions read. It throws
 * naming the offending element or position on any deviation.
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Text content, entities resolved (concatenated across children). */
  text: string;
}

function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

type OrderedNode = Record<string, unknown> & { ":@"?: Record<string, string> };

const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Resolves XML's five entities and character references; anything else is an error (XML defines no others). */
function entities(text: string): string {
  if (/&(?![^;&\s]+;)/.test(text))
    throw new Error(`"&" must start a reference ending in ";": ${JSON.stringify(text)}`);
  return text.replace(/&([^;&\s]*);/g, (_, body: string) => {
    const named = NAMED[body];
    if (named !== undefined) return named;
    const num = /^#(x[0-9a-fA-F]+|[0-9]+)$/.exec(body);
    if (!num) throw new Error(`unknown entity &${body};`);
    const code = num[1]?.startsWith("x") ? Number.parseInt(num[1].slice(1), 16) : Number(num[1]);
    if (!isXmlChar(code)) throw new Error(`character reference &${body}; is not an XML character`);
    return String.fromCodePoint(code);
  });
}

const TEXT = "#text";

function toElement(node: OrderedNode): XmlElement {
  const name = Object.keys(node).find((k) => k !== ":@") as string;
  const attrs = Object.fromEntries(Object.entries(node[":@"] ?? {}).map(([k, v]) => [k, entities(v)]));
  const element: XmlElement = { name, attrs, children: [], text: "" };
  for (const child of node[name] as OrderedNode[]) {
    if (TEXT in child) element.text += entities(String(child[TEXT]));
    else if (Object.keys(child).some((k) => k.startsWith("?") || k.startsWith("!")))
      throw new Error(
        `<${name}> holds a comment, CDATA, DTD or processing instruction, which no report needs`,
      );
    else element.children.push(toElement(child));
  }
  return element;
}

/** Parses `xml` into its root element, or throws with the position of the first error. */
export function parseXml(xml: string): XmlElement {
  for (const ch of xml) {
    const code = ch.codePointAt(0) as number;
    if (!isXmlChar(code)) throw new Error(`character U+${code.toString(16)} is not allowed in XML 1.0`);
  }
  if (!/^<\?xml version="1\.0"( encoding="UTF-8")?\?>/.test(xml)) {
    throw new Error("the document must start with an XML declaration");
  }
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new Error(`${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  }
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: "",
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    // Resolved by entities() below, which also knows character references and refuses undefined entities.
    processEntities: false,
    commentPropName: "!comment",
    cdataPropName: "!cdata",
    ignoreDeclaration: false,
  });
  const nodes = (parser.parse(xml) as OrderedNode[]).filter(
    (n) => !("?xml" in n) && !(TEXT in n && String(n[TEXT]).trim() === ""),
  );
  if (nodes.length !== 1) throw new Error(`expected one root element, found ${nodes.length} top-level nodes`);
  return toElement(nodes[0] as OrderedNode);
}

const TIME = /^(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?$/;

/** Checks an element's attributes, children and (unless `mixed`) that its text is only whitespace. */
function allowed(
  el: XmlElement,
  attrs: string[],
  required: string[],
  children: string[],
  mixed = false,
): void {
  if (!mixed && el.text.trim() !== "") throw new Error(`<${el.name}> may not hold text`);
  for (const a of Object.keys(el.attrs)) {
    if (!attrs.includes(a)) throw new Error(`<${el.name}> may not have attribute ${a}`);
  }
  for (const a of required) if (!(a in el.attrs)) throw new Error(`<${el.name}> needs attribute ${a}`);
  for (const c of el.children) {
    if (!children.includes(c.name)) throw new Error(`<${el.name}> may not contain <${c.name}>`);
  }
}

const count = (n: string | undefined, what: string, expected: number) => {
  if (n === undefined || !/^\d+$/.test(n) || Number(n) !== expected) {
    throw new Error(`${what} is ${JSON.stringify(n)}, but the report holds ${expected}`);
  }
};

function checkSuite(suite: XmlElement): { tests: number; failures: number; errors: number } {
  allowed(
    suite,
    [
      "name",
      "tests",
      "failures",
      "errors",
      "group",
      "time",
      "skipped",
      "timestamp",
      "hostname",
      "id",
      "package",
      "file",
      "log",
      "url",
    ],
    ["name", "tests", "failures", "errors"],
    ["testsuite", "properties", "testcase", "system-out", "system-err"],
  );
  if (suite.attrs.time !== undefined && !TIME.test(suite.attrs.time))
    throw new Error(`bad time ${suite.attrs.time}`);
  let tests = 0;
  let failures = 0;
  let errors = 0;
  for (const child of suite.children) {
    if (child.name === "properties") {
      allowed(child, [], [], ["property"]);
      for (const p of child.children) allowed(p, ["name", "value"], ["name", "value"], []);
    } else if (child.name === "testcase") {
      allowed(
        child,
        ["name", "time", "classname", "group"],
        ["name"],
        [
          "skipped",
          "error",
          "failure",
          "rerunFailure",
          "rerunError",
          "flakyFailure",
          "flakyError",
          "system-out",
          "system-err",
        ],
      );
      for (const r of child.children) {
        if (["skipped", "error", "failure"].includes(r.name)) allowed(r, ["type", "message"], [], [], true);
        else allowed(r, [], [], [], true);
      }
      tests++;
      if (child.children.some((c) => c.name === "failure")) failures++;
      if (child.children.some((c) => c.name === "error")) errors++;
    } else if (child.name === "testsuite") {
      const inner = checkSuite(child);
      tests += inner.tests;
      failures += inner.failures;
      errors += inner.errors;
    } else allowed(child, [], [], [], true);
  }
  count(suite.attrs.tests, `tests of suite ${suite.attrs.name}`, tests);
  count(suite.attrs.failures, `failures of suite ${suite.attrs.name}`, failures);
  count(suite.attrs.errors, `errors of suite ${suite.attrs.name}`, errors);
  return { tests, failures, errors };
}

/** Parses a JUnit report and checks it against junit-10.xsd's structure; returns the root element. */
export function checkJunit(xml: string): XmlElement {
  const root = parseXml(xml);
  if (root.name !== "testsuites") throw new Error(`the root is <${root.name}>, not <testsuites>`);
  allowed(root, ["name", "time", "tests", "failures", "errors"], [], ["testsuite"]);
  if (root.attrs.time !== undefined && !TIME.test(root.attrs.time))
    throw new Error(`bad time ${root.attrs.time}`);
  const totals = { tests: 0, failures: 0, errors: 0 };
  for (const suite of root.children) {
    const t = checkSuite(suite);
    totals.tests += t.tests;
    totals.failures += t.failures;
    totals.errors += t.errors;
  }
  for (const key of ["tests", "failures", "errors"] as const) {
    if (root.attrs[key] !== undefined) count(root.attrs[key], `${key} of <testsuites>`, totals[key]);
  }
  return root;
}

/** Elements named `name` anywhere below `el`, in document order. */
export function findAll(el: XmlElement, name: string): XmlElement[] {
  return el.children.flatMap((c) => [...(c.name === name ? [c] : []), ...findAll(c, name)]);
}
