/**
 * Splits an inline request line into arguments exactly as Redis' sdssplitargs does: blanks
 * separate arguments, "double quotes" understand \n \r \t \b \a \xHH and \<char>, 'single quotes'
 * understand \' only, and a closing quote must be followed by a blank or the end of the line.
 * Returns null for unbalanced quotes (Redis: "Protocol error: unbalanced quotes in request").
 */
export function splitInlineArgs(data: Buffer, from: number, to: number): Buffer[] | null {
  const args: Buffer[] = [];
  let p = from;
  while (true) {
    while (p < to && isSpace(data[p])) p++;
    if (p >= to) return args;
    const bytes: number[] = [];
    let inDouble = false;
    let inSingle = false;
    let done = false;
    while (!done) {
      if (inDouble) {
        if (p >= to) return null;
        const c = data[p];
        if (c === BACKSLASH && p + 3 < to && data[p + 1] === 0x78 /* x */ && isHex(data[p + 2]) && isHex(data[p + 3])) {
          bytes.push(hexValue(data[p + 2]) * 16 + hexValue(data[p + 3]));
          p += 3;
        } else if (c === BACKSLASH && p + 1 < to) {
          p++;
          bytes.push(ESCAPES[data[p]] ?? data[p]);
        } else if (c === DOUBLE_QUOTE) {
          if (p + 1 < to && !isSpace(data[p + 1])) return null;
          done = true;
        } else {
          bytes.push(c);
        }
      } else if (inSingle) {
        if (p >= to) return null;
        const c = data[p];
        if (c === BACKSLASH && p + 1 < to && data[p + 1] === SINGLE_QUOTE) {
          p++;
          bytes.push(SINGLE_QUOTE);
        } else if (c === SINGLE_QUOTE) {
          if (p + 1 < to && !isSpace(data[p + 1])) return null;
          done = true;
        } else {
          bytes.push(c);
        }
      } else if (p >= to) {
        done = true;
      } else {
        const c = data[p];
        if (isSeparator(c)) done = true;
        else if (c === DOUBLE_QUOTE) inDouble = true;
        else if (c === SINGLE_QUOTE) inSingle = true;
        else bytes.push(c);
      }
      if (p < to) p++;
    }
    args.push(Buffer.from(bytes));
  }
}

const BACKSLASH = 0x5c;
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;
const ESCAPES: Record<number, number> = { 0x6e: 10, 0x72: 13, 0x74: 9, 0x62: 8, 0x61: 7 };

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** What ends an unquoted argument in sdssplitargs: unlike isspace(), not \v or \f. */
function isSeparator(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function hexValue(c: number): number {
  if (c <= 57) return c - 48;
  if (c <= 70) return c - 55;
  return c - 87;
}
