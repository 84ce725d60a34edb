import { describe, expect, it } from "vitest";
import { isEvalrunError } from "../../src/define/errors.js";
import { formatValue, parseTemplate } from "../../src/scorers/llm/template.js";

const render = (source: string, view: Record<string, unknown>) => parseTemplate(source).render(view);

describe("prompt templates", () => {
  it("renders variables with double and triple braces alike, without HTML escaping", () => {
    expect(
      render("Q: {{input}} / A: {{{output}}} / {{& expected}}", {
        input: "<b>",
        output: "a & b",
        expected: '"x"',
      }),
    ).toBe('Q: <b> / A: a & b / "x"');
  });

  it("renders objects and arrays as JSON, scalars as text, null and missing values as nothing", () => {
    expect(
      render("{{a}}|{{b}}|{{c}}|{{d}}|{{e}}|{{f}}", {
        a: { x: 1 },
        b: [1, "two"],
        c: 3.5,
        d: false,
        e: null,
      }),
    ).toBe('{"x":1}|[1,"two"]|3.5|false||');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(formatValue(cyclic)).toBe("[object Object]");
  });

  it("follows dotted paths, into metadata and nested values", () => {
    expect(
      render("{{metadata.topic}} {{input.question.text}} {{input.missing.deep}}", {
        metadata: { topic: "maths" },
        input: { question: { text: "1+1?" } },
      }),
    ).toBe("maths 1+1? ");
    // A string's own properties, as mustache reads them; not its methods.
    expect(render("{{output.length}} {{output.0}} {{output.trim}}", { output: "hello" })).toBe("5 h ");
  });

  it("renders sections per array item and once for a truthy value, inverted sections when empty", () => {
    const template = "{{#items}}- {{name}}\n{{/items}}{{^items}}none\n{{/items}}{{#flag}}on{{/flag}}";
    expect(render(template, { items: [{ name: "a" }, { name: "b" }], flag: true })).toBe("- a\n- b\non");
    expect(render(template, { items: [], flag: 0 })).toBe("none\n");
    expect(render("{{#list}}[{{.}}]{{/list}}", { list: ["x", "y"] })).toBe("[x][y]");
    // A section over a string or number has it as `{{.}}`, names still found in the view.
    const guarded = "{{#expected}}Reference: {{.}} ({{output}}){{/expected}}";
    expect(render(guarded, { expected: "Paris", output: "Lyon" })).toBe("Reference: Paris (Lyon)");
    expect(render(guarded, { expected: 42, output: "Lyon" })).toBe("Reference: 42 (Lyon)");
    // A name not found on the item is looked up in the enclosing view.
    expect(render("{{#items}}{{name}}@{{site}} {{/items}}", { site: "s", items: [{ name: "a" }] })).toBe(
      "a@s ",
    );
  });

  it("renders chat messages as a transcript, as autoevals does, not as JSON", () => {
    const input = [
      { role: "system", content: "You are terse." },
      { role: "user", content: "Capital of France?\nOne word." },
      { role: "assistant", content: null, tool_calls: [{ id: "1" }] },
      {
        role: "user",
        content: [
          { type: "text", text: "Thanks" },
          { type: "image_url", image_url: { url: "x" } },
        ],
      },
    ];
    expect(render("{{input}}", { input })).toBe(
      "System:\n  You are terse.\n\nUser:\n  Capital of France?\n  One word.\n\nUser:\n  Thanks",
    );
    expect(render("{{output}}", { output: { role: "assistant", content: "Paris" } })).toBe(
      "assistant: Paris",
    );
    // Not messages: JSON as before.
    expect(render("{{a}}|{{b}}", { a: [], b: [{ role: "x" }] })).toBe('[]|[{"role":"x"}]');
  });

  it("leaves no blank lines for section and comment tags alone on their line", () => {
    const template = "start\n{{! a note }}\n{{#show}}\nshown\n{{/show}}\nend";
    expect(render(template, { show: true })).toBe("start\nshown\nend");
    expect(render(template, { show: false })).toBe("start\nend");
  });

  it("reports template mistakes with their position, as LLM_CONFIG errors", () => {
    const cases: Array<[string, RegExp]> = [
      ["hello {{name", /never closed \(at line 1, column 7\)/],
      ["a\n{{#items}}x", /opens \{\{#items\}\} and never closes it \(at line 2, column 1\)/],
      ["{{/items}}", /closes \{\{\/items\}\}, which was never opened/],
      ["{{#a}}{{/b}}", /closes \{\{\/b\}\} where \{\{\/a\}\} was expected/],
      ["{{> partial}}", /do not support/],
      ["{{ }}", /empty tag/],
    ];
    for (const [source, message] of cases) {
      let caught: unknown;
      try {
        parseTemplate(source, "The template");
      } catch (error) {
        caught = error;
      }
      expect(isEvalrunError(caught), source).toBe(true);
      expect((caught as { code: string }).code).toBe("LLM_CONFIG");
      expect((caught as Error).message, source).toMatch(message);
    }
  });
});
