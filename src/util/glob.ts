/**
 * Redis' glob matching (util.c stringmatchlen) on bytes, so that SCAN ... MATCH filtered by
 * slotgate selects exactly the keys Redis' own MATCH would: `*`, `?`, `[abc]`, `[^a-z]`,
 * backslash escapes, and the same treatment of malformed patterns (an unclosed `[`).
 */
export function globMatch(pattern: Buffer, subject: Buffer): boolean {
  const state = { skipLongerMatches: false };
  return matchFrom(pattern, 0, subject, 0, state, 0);
}

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const CARET = 0x5e;
const BACKSLASH = 0x5c;
const DASH = 0x2d;

/** C's (signed) char value of a byte, which Redis' range comparisons use. */
function signed(byte: number): number {
  return byte > 127 ? byte - 256 : byte;
}

function matchFrom(p: Buffer, pi: number, s: Buffer, si: number, state: { skipLongerMatches: boolean }, nesting: number): boolean {
  if (nesting > 1000) return false; // Redis' guard against abusive patterns
  const pLen = p.length;
  const sLen = s.length;
  while (pi < pLen && si < sLen) {
    switch (p[pi]) {
      case STAR: {
        while (pi + 1 < pLen && p[pi + 1] === STAR) pi++;
        if (pi + 1 === pLen) return true;
        while (si < sLen) {
          if (matchFrom(p, pi + 1, s, si, state, nesting + 1)) return true;
          if (state.skipLongerMatches) return false;
          si++;
        }
        // Nothing after this star matches anywhere in the rest: no longer match of an
        // earlier star can help either.
        state.skipLongerMatches = true;
        return false;
      }
      case QUESTION:
        si++;
        break;
      case OPEN: {
        pi++;
        const not = pi < pLen && p[pi] === CARET;
        if (not) pi++;
        let match = false;
        while (true) {
          if (pi < pLen && p[pi] === BACKSLASH && pLen - pi >= 2) {
            pi++;
            if (p[pi] === s[si]) match = true;
          } else if (pi < pLen && p[pi] === CLOSE) {
            break;
          } else if (pi >= pLen) {
            pi--; // an unclosed class ends with the pattern
            break;
          } else if (pLen - pi >= 3 && p[pi + 1] === DASH) {
            let start = signed(p[pi]);
            let end = signed(p[pi + 2]);
            const c = signed(s[si]);
            if (start > end) [start, end] = [end, start];
            pi += 2;
            if (c >= start && c <= end) match = true;
          } else if (p[pi] === s[si]) {
            match = true;
          }
          pi++;
        }
        if (not) match = !match;
        if (!match) return false;
        si++;
        break;
      }
      case BACKSLASH:
        if (pLen - pi >= 2) pi++;
        if (p[pi] !== s[si]) return false;
        si++;
        break;
      default:
        if (p[pi] !== s[si]) return false;
        si++;
        break;
    }
    pi++;
    if (si === sLen) {
      while (pi < pLen && p[pi] === STAR) pi++;
      break;
    }
  }
  return pi === pLen && si === sLen;
}
