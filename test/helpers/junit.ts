/**
 * A strict check of JUnit XML without an XML library: a well-formedness parser for the XML 1.0 subset a report
 * needs (declaration, elements, attributes, text, character and entity references; no DTD, comments, CDATA or
 * processing instructions), then the structure of Jenkins' junit-10.xsd, which GitLab, Jenkins, CircleCI, Azure
 * Pipelines and GitHub's test-report actions read. It throws with the offending position on any deviation.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Text content, entities resolved (concatenated across children). */
  text: string;
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;

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

/** Parses `xml` into its root element, or throws with the position of the first error. */
export function parseXml(xml: string): XmlElement {
  for (const ch of xml) {
    const code = ch.codePointAt(0) as number;
    if (!isXmlChar(code)) throw new Error(`character U+${code.toString(16)} is not allowed in XML 1.0`);
  }
  let at = 0;
  const fail = (message: string): never => {
    const line = xml.slice(0, at).split("\n").length;
    throw new Error(`${message} (line ${line}, offset ${at}): ${JSON.stringify(xml.slice(at, at + 40))}`);
  };
  const decl = /^<\?xml version="1\.0"( encoding="UTF-8")?\?>/.exec(xml);
  if (!decl) fail("the document must start with an XML declaration");
  at = (decl as RegExpExecArray)[0].length;
  const entity = (text: string): string =>
    text.replace(/&([^;&]*);?/g, (whole, body: string) => {
      if (!whole.endsWith(";")) fail(`"&" must start a reference ending in ";"`);
      if (body === "amp") return "&";
      if (body === "lt") return "<";
      if (body === "gt") return ">";
      if (body === "quot") return '"';
      if (body === "apos") return "'";
      const num = /^#(x[0-9a-fA-F]+|[0-9]+)$/.exec(body);
      if (!num) return fail(`unknown entity &${body};`);
      const code = num[1]?.startsWith("x") ? Number.parseInt(num[1].slice(1), 16) : Number(num[1]);
      if (!isXmlChar(code)) fail(`character reference &${body}; is not an XML character`);
      return String.fromCodePoint(code);
    });
  const skipSpace = () => {
    while (at < xml.length && /\s/.test(xml[at] as string)) at++;
  };
  const element = (): XmlElement => {
    if (xml[at] !== "<") fail("expected an element");
    at++;
    const name = NAME.exec(xml.slice(at))?.[0] ?? fail("expected an element name");
    at += name.length;
    const attrs: Record<string, string> = {};
    for (;;) {
      const before = at;
      skipSpace();
      if (xml.startsWith("/>", at)) {
        at += 2;
        return { name, attrs, children: [], text: "" };
      }
      if (xml[at] === ">") {
        at++;
        break;
      }
      if (before === at) fail("attributes must be separated by whitespace");
      const attr = NAME.exec(xml.slice(at))?.[0] ?? fail("expected an attribute name");
      at += attr.length;
      if (xml[at] !== "=") fail(`attribute ${attr} needs ="value"`);
      at++;
      const quote = xml[at];
      if (quote !== '"' && quote !== "'") fail(`attribute ${attr}'s value must be quoted`);
      const end = xml.indexOf(quote as string, at + 1);
      if (end < 0) fail("unterminated attribute value");
      const raw = xml.slice(at + 1, end);
      if (raw.includes("<")) fail(`"<" inside attribute ${attr}`);
      if (attr in attrs) fail(`duplicate attribute ${attr}`);
      attrs[attr] = entity(raw);
      at = end + 1;
    }
    const children: XmlElement[] = [];
    let text = "";
    for (;;) {
      const next = xml.indexOf("<", at);
      if (next < 0) fail(`<${name}> is never closed`);
      const raw = xml.slice(at, next);
      if (raw.includes("]]>")) fail(`"]]>" in text`);
      text += entity(raw);
      at = next;
      if (xml.startsWith("</", at)) {
        at += 2;
        if (!xml.startsWith(name, at)) fail(`</${name}> expected`);
        at += name.length;
        skipSpace();
        if (xml[at] !== ">") fail(`</${name}> is not closed`);
        at++;
        return { name, attrs, children, text };
      }
      if (xml.startsWith("<!", at) || xml.startsWith("<?", at))
        fail("comments, CDATA, DTDs and PIs are not expected");
      children.push(element());
    }
  };
  skipSpace();
  const root = element();
  skipSpace();
  if (at !== xml.length) fail("content after the root element");
  return root;
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
