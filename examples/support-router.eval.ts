// Demonstrates: loading a JSONL dataset that sits beside the eval file, rows with `metadata`, `tags` and `id`,
// a plain (sync) task, a boolean scorer and a partial-credit scorer that returns a Score with metadata.
//
//   npx evalrun examples/support-router.eval.ts
//   npx evalrun examples/support-router.eval.ts --filter metadata.lang=^es$   # Spanish rows only
//   npx evalrun examples/support-router.eval.ts --filter tags=urgent          # rows tagged "urgent"
import { readFileSync } from "node:fs";
import { Eval, type EvalCase, type Score, type ScorerArgs } from "evalrun";

type Intent = "billing" | "refund" | "shipping" | "account" | "technical" | "cancel" | "other";

interface MessageMeta {
  lang: "en" | "es" | "de";
  channel: "email" | "chat";
}

interface Routing {
  intent: Intent;
  /** Share of all keyword hits that went to the chosen intent (0 when nothing matched). */
  confidence: number;
  matched: string[];
}

// The system under test: keyword rules in three languages. Text is lower-cased and stripped of accents first, so
// "suscripción" and "kündigen" are written here as "suscripcion" and "kundigen".
const RULES: Record<Exclude<Intent, "other">, RegExp[]> = {
  cancel: [
    /\bcancel/,
    /\bunsubscribe/,
    /\brenew/,
    /close my account/,
    /stop my (subscription|membership)/,
    /\bcancelar/,
    /\bde baja\b/,
    /\bkundig/,
  ],
  refund: [
    /\brefund/,
    /money back/,
    /\breturn(ed)?\b/,
    /reverse the charge/,
    /reembolso/,
    /\bdevol/,
    /\bdevuelv/,
    /geld zuruck/,
    /erstattung/,
  ],
  billing: [
    /\bcharge/,
    /\binvoice/,
    /\bbill(ing)?\b/,
    /\bpayment/,
    /\breceipt/,
    /\bvat\b/,
    /\btax id/,
    /\bdiscount/,
    /\bcobr(o|aron|ado)\b/,
    /\bfactura/,
    /\bpago\b/,
    /\brechnung/,
    /\bbelastet/,
  ],
  shipping: [
    /\bship(s|ping|ped)?\b/,
    /\bdeliver/,
    /\bpackage/,
    /\bparcel/,
    /\btracking/,
    /\bcourier/,
    /\barriv/,
    /\btransit/,
    /\benvios?\b/,
    /\bllegado/,
    /\bentrega/,
    /\bseguimiento/,
    /\bpaket/,
    /\bliefer/,
  ],
  account: [
    /\bpassword/,
    /\blog ?in/,
    /\baccount/,
    /\busername/,
    /two-factor|\b2fa\b/,
    /\badmin/,
    /\bprofile/,
    /email address/,
    /\bcontrasena/,
    /\bcuenta\b/,
    /\bcorreo/,
    /\bpasswort/,
    /\bkonto/,
  ],
  technical: [
    /\bcrash/,
    /\berror/,
    /\bbug\b/,
    /not working|stopped working|doesn't work/,
    /\bwon't/,
    /\bstuck\b/,
    /\bapp\b/,
    /\bapi\b/,
    /\bsync/,
    /\bupload/,
    /\btimeout/,
    /no funciona/,
    /\bfehler/,
    /\bsturzt/,
  ],
};

// Ties go to the intent listed first: cancelling beats refunding beats everything else.
const PRIORITY = Object.keys(RULES) as Exclude<Intent, "other">[];

function normalize(text: string): string {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

function routeMessage(message: string): Routing {
  const text = normalize(message);
  let best: Intent = "other";
  let bestHits: string[] = [];
  let total = 0;
  for (const intent of PRIORITY) {
    const hits = RULES[intent].filter((rule) => rule.test(text)).map((rule) => rule.source);
    total += hits.length;
    if (hits.length > bestHits.length) {
      best = intent;
      bestHits = hits;
    }
  }
  const confidence = total === 0 ? 0 : Math.round((bestHits.length / total) * 100) / 100;
  return { intent: best, confidence, matched: bestHits };
}

function loadMessages(): EvalCase<string, Intent, MessageMeta>[] {
  // `import.meta.url` (and `__dirname`) name this source file's folder under evalrun, wherever it runs from.
  const text = readFileSync(new URL("./data/support-messages.jsonl", import.meta.url), "utf8");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as EvalCase<string, Intent, MessageMeta>);
}

type RouterArgs = ScorerArgs<string, Routing, Intent, MessageMeta>;

function IntentMatch({ output, expected }: RouterArgs): boolean {
  return output.intent === expected;
}

// Misroutes between neighbouring queues cost less: a billing agent can hand a refund over in one click.
const RELATED: ReadonlyArray<readonly [Intent, Intent]> = [
  ["billing", "refund"],
  ["refund", "cancel"],
  ["billing", "cancel"],
  ["refund", "shipping"],
  ["account", "technical"],
];

function RelatedIntent({ output, expected }: RouterArgs): Score | null {
  if (expected === undefined) return null;
  if (output.intent === expected) return { name: "RelatedIntent", score: 1 };
  const related = RELATED.some(
    ([a, b]) => (a === output.intent && b === expected) || (b === output.intent && a === expected),
  );
  return {
    name: "RelatedIntent",
    score: related ? 0.5 : 0,
    metadata: { routedTo: output.intent, expected, matched: output.matched },
  };
}

Eval("support-router", {
  description: "Keyword router for inbound support messages (en/es/de, email and chat).",
  metadata: { router: "keywords-v3", rules: Object.values(RULES).flat().length },
  tags: ["routing", "offline"],
  data: loadMessages,
  task: (message, hooks) => {
    const routing = routeMessage(message);
    if (routing.matched.length === 0) hooks.tags.push("no-rule-matched");
    return routing;
  },
  scores: [IntentMatch, RelatedIntent],
});
