// Demonstrates: structured output scored field by field. One scorer returns an array of Score objects (one
// `field:<name>` score each, with metadata showing what went wrong), another returns a boolean for the whole
// object, ValidShape checks the output's shape without looking at `expected`, and the built-in JSONDiff gives
// partial credit for near misses (strings by Levenshtein, numbers by NumericDiff). Rows are inline.
//
//   npx evalrun examples/json-extractor.eval.ts
//   npx evalrun examples/json-extractor.eval.ts --filter tags=hard
import { Eval, type EvalCase, JSONDiff, type Score, type ScorerArgs } from "evalrun";

interface Extracted {
  name: string | null;
  email: string | null;
  quantity: number | null;
  product: string | null;
}

const FIELDS = ["name", "email", "quantity", "product"] as const;

const CATALOGUE = [
  "standing desk",
  "ergonomic chair",
  "monitor arm",
  "desk lamp",
  "mechanical keyboard",
  "webcam",
  "usb-c hub",
  "headset",
];

const NUMBER_WORDS: Record<string, number> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
};

// The system under test: a handful of regexes. Good enough for tidy messages, wrong on purpose for some others
// (obfuscated emails, "a dozen", order numbers mistaken for quantities, lower-case names, typos).
function extract(message: string): Extracted {
  const email = /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/.exec(message)?.[0] ?? null;

  const name =
    /\b(?:[Mm]y name is|[Tt]his is|I am|I'm)\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)/.exec(message)?.[1] ??
    /(?:Thanks|Regards|Cheers|Best),?\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)\.?\s*$/.exec(message)?.[1] ??
    null;

  const lower = message.toLowerCase();
  const product = CATALOGUE.find((item) => lower.includes(item)) ?? null;

  let quantity: number | null = null;
  const withoutEmail = email === null ? lower : lower.replace(email.toLowerCase(), " ");
  const digits = /\b(\d{1,5})\b(?![.@\d])/.exec(withoutEmail);
  if (digits?.[1] !== undefined) {
    quantity = Number(digits[1]);
  } else {
    const word = Object.keys(NUMBER_WORDS).find((w) => new RegExp(`\\b${w}\\b`).test(lower));
    if (word !== undefined) quantity = NUMBER_WORDS[word] ?? null;
    else if (product !== null && new RegExp(`\\ban? ${product}`).test(lower)) quantity = 1;
  }

  return { name, email, quantity, product };
}

type Row = EvalCase<string, Extracted>;

// Rows are plain objects: `input`, `expected`, and optional `tags` to slice the run with --filter.
const rows: Row[] = [
  {
    input: "Hi, my name is Dana Whitfield. Please send 2 standing desks to our office. dana.w@northwind.io",
    expected: { name: "Dana Whitfield", email: "dana.w@northwind.io", quantity: 2, product: "standing desk" },
  },
  {
    input: "I'd like to order three ergonomic chairs. Contact: ops@brightlane.co.uk. Thanks, Omar Haddad",
    expected: { name: "Omar Haddad", email: "ops@brightlane.co.uk", quantity: 3, product: "ergonomic chair" },
  },
  {
    input: "This is Priya Nair, can I get a quote for 12 monitor arms? priya@kestrel-labs.com",
    expected: { name: "Priya Nair", email: "priya@kestrel-labs.com", quantity: 12, product: "monitor arm" },
  },
  {
    input: "Order: 1 webcam. Email me at l.moreau@gmail.com. Best, Louis Moreau",
    expected: { name: "Louis Moreau", email: "l.moreau@gmail.com", quantity: 1, product: "webcam" },
  },
  {
    input: "Could someone call me back about bulk pricing? Regards, Hannah Becker",
    expected: { name: "Hannah Becker", email: null, quantity: null, product: null },
  },
  {
    input: "Please reserve a desk lamp for me, I'm Tom Ellis and my email is tom.ellis@fastmail.com",
    expected: { name: "Tom Ellis", email: "tom.ellis@fastmail.com", quantity: 1, product: "desk lamp" },
  },
  {
    input: "we need 40 headsets for the call centre, reply to purchasing@calloway.net",
    expected: { name: null, email: "purchasing@calloway.net", quantity: 40, product: "headset" },
  },
  {
    input: "Hello! I am Mei Tanaka. Two USB-C hubs please, to mei.tanaka@outlook.jp.",
    expected: { name: "Mei Tanaka", email: "mei.tanaka@outlook.jp", quantity: 2, product: "usb-c hub" },
  },
  {
    input: "Following up on order 50213: add 5 mechanical keyboards. Cheers, Sam Okafor",
    expected: { name: "Sam Okafor", email: null, quantity: 5, product: "mechanical keyboard" },
    tags: ["hard"],
  },
  {
    input: "My name is Ana Lucia. Please email anna at example dot com about one webcam.",
    expected: { name: "Ana Lucia", email: "anna@example.com", quantity: 1, product: "webcam" },
    tags: ["hard"],
  },
  {
    input: "Can you ship a dozen desk lamps to Rotterdam? — jan@vandijk.nl",
    expected: { name: null, email: "jan@vandijk.nl", quantity: 12, product: "desk lamp" },
    tags: ["hard"],
  },
  {
    input: "this is rosa from finance, we want 6 monitor arms. rosa.finance@meridian.org",
    expected: { name: "Rosa", email: "rosa.finance@meridian.org", quantity: 6, product: "monitor arm" },
    tags: ["hard"],
  },
  {
    input: "Quote for 25 ergonmic chairs please. Thanks, Felix Braun",
    expected: { name: "Felix Braun", email: null, quantity: 25, product: "ergonomic chair" },
    tags: ["hard", "typo"],
  },
  {
    input: "I'm Grace Lee (grace.lee@acme.dev). Interested in a standing desk, what sizes do you have?",
    expected: { name: "Grace Lee", email: "grace.lee@acme.dev", quantity: 1, product: "standing desk" },
  },
  {
    input: "Send 8 webcams and 8 headsets to it@harborview.edu",
    expected: { name: null, email: "it@harborview.edu", quantity: 8, product: "webcam" },
    tags: ["multi-item"],
  },
  {
    input: "Hi there, this is Marco Rossi. I want four mechanical keyboards. marco.rossi@studiorossi.it",
    expected: {
      name: "Marco Rossi",
      email: "marco.rossi@studiorossi.it",
      quantity: 4,
      product: "mechanical keyboard",
    },
  },
  {
    input: "Do you sell printers? Best, Ingrid Holm",
    expected: { name: "Ingrid Holm", email: null, quantity: null, product: null },
  },
  {
    input: "Ten usb-c hubs for the new hires please. finance+orders@tallpine.com",
    expected: { name: null, email: "finance+orders@tallpine.com", quantity: 10, product: "usb-c hub" },
  },
  {
    input: "My name is Chloé Martin, 3 desk lamps please, chloe.martin@free.fr",
    expected: { name: "Chloé Martin", email: "chloe.martin@free.fr", quantity: 3, product: "desk lamp" },
    tags: ["hard", "accents"],
  },
  {
    input: "Hey, it's Ben. Need 2 headsets asap — ben@smallbatch.coffee",
    expected: { name: "Ben", email: "ben@smallbatch.coffee", quantity: 2, product: "headset" },
    tags: ["hard"],
  },
  {
    input: "Please contact support-team@lumen.ai about 15 standing desks. Regards, Aisha Bello",
    expected: { name: "Aisha Bello", email: "support-team@lumen.ai", quantity: 15, product: "standing desk" },
  },
  {
    input: "I am Oliver Grant and I'd like one ergonomic chair delivered to my home.",
    expected: { name: "Oliver Grant", email: null, quantity: 1, product: "ergonomic chair" },
  },
  {
    input: "Invoice 2024-118 attached. We also want 7 monitor arms. Thanks, Nora Quist",
    expected: { name: "Nora Quist", email: null, quantity: 7, product: "monitor arm" },
    tags: ["hard"],
  },
  {
    input: "What's the lead time on a webcam? You can reach me at d.kim@pinecrest.kr",
    expected: { name: null, email: "d.kim@pinecrest.kr", quantity: 1, product: "webcam" },
  },
];

type ExtractorArgs = ScorerArgs<string, Extracted, Extracted>;

/** One score per field, named `field:<name>`; a miss carries what was expected and what came out. */
function FieldScores({ output, expected }: ExtractorArgs): Score[] | null {
  if (expected === undefined) return null;
  return FIELDS.map((field) => {
    const ok = output[field] === expected[field];
    return ok
      ? { name: `field:${field}`, score: 1 }
      : { name: `field:${field}`, score: 0, metadata: { expected: expected[field], got: output[field] } };
  });
}

function AllFieldsCorrect({ output, expected }: ExtractorArgs): boolean {
  return expected !== undefined && FIELDS.every((field) => output[field] === expected[field]);
}

/** Checks the output alone: would a downstream system accept this object? */
function ValidShape({ output }: ExtractorArgs): boolean {
  const keys = Object.keys(output).sort().join(",");
  return (
    keys === "email,name,product,quantity" &&
    (output.name === null || output.name.trim() !== "") &&
    (output.email === null || /^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i.test(output.email)) &&
    (output.quantity === null ||
      (Number.isInteger(output.quantity) && output.quantity >= 1 && output.quantity <= 999)) &&
    (output.product === null || CATALOGUE.includes(output.product))
  );
}

Eval("json-extractor", {
  description: "Regex extraction of { name, email, quantity, product } from order and contact messages.",
  data: rows,
  task: (message) => extract(message),
  scores: [FieldScores, AllFieldsCorrect, ValidShape, JSONDiff],
});
