/**
 * XML 1.0 text: characters XML cannot hold at all (most C0 controls, lone surrogates, U+FFFE/U+FFFF) are written
 * as `\uXXXX` so a stray control byte in a model's output never makes a report unreadable.
 */
function legal(text: string): string {
  let out: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    let bad =
      (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0xfffe || code === 0xffff;
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        if (out !== undefined) out += text.slice(i, i + 2);
        i++;
        continue;
      }
      bad = true;
    } else if (code >= 0xdc00 && code <= 0xdfff) bad = true;
    if (bad && out === undefined) out = text.slice(0, i);
    if (out !== undefined) out += bad ? `\\u${code.toString(16).padStart(4, "0")}` : text[i];
  }
  return out ?? text;
}

/** Element content. */
export function xmlText(text: string): string {
  return legal(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** An attribute value (double-quoted); newlines and tabs as character references, or parsers fold them. */
export function xmlAttr(text: string): string {
  return legal(text)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/\n/g, "&#10;")
    .replace(/\r/g, "&#13;")
    .replace(/\t/g, "&#9;");
}

/** `<name a="1" b="2"` (unclosed), attributes in the order given, undefined ones left out. */
export function openTag(name: string, attrs: Record<string, string | number | undefined>): string {
  const parts = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${xmlAttr(String(v))}"`);
  return `<${name}${parts.join("")}`;
}
