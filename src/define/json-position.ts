const NUMBER_OR_WORD = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
const WHITESPACE = /[ \t\n\r]*/y;

/**
 * The offset of the first syntax error in JSON text, or -1 when none is found. V8 names a position for some
 * errors only ("Unexpected token '}', ... is not valid JSON" has none); a message that names no line is of
 * little use in a file of thousands.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw new Malformed(i);
  };
  const skip = () => {
    WHITESPACE.lastIndex = i;
    WHITESPACE.exec(text);
    i = WHITESPACE.lastIndex;
  };
  const string = () => {
    i++;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c === 0x5c) i += 2;
      else if (c < 0x20) fail();
      else i++;
    }
    fail();
  };
  const container = (close: string, member: () => void) => {
    i++;
    skip();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      member();
      skip();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === close) {
        i++;
        return;
      }
      fail();
    }
  };
  const value = (): void => {
    skip();
    const c = text[i];
    if (c === "{") {
      container("}", () => {
        skip();
        if (text[i] !== '"') fail();
        string();
        skip();
        if (text[i] !== ":") fail();
        i++;
        value();
      });
    } else if (c === "[") container("]", value);
    else if (c === '"') string();
    else {
      NUMBER_OR_WORD.lastIndex = i;
      if (!NUMBER_OR_WORD.test(text)) fail();
      i = NUMBER_OR_WORD.lastIndex;
    }
  };
  try {
    value();
    skip();
    if (i < text.length) fail();
    return -1;
  } catch (error) {
    if (error instanceof Malformed) return error.offset;
    throw error;
  }
}

class Malformed {
  constructor(readonly offset: number) {}
}

/** 1-based line and column of an offset in text. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}
