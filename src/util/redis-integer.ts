const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/**
 * A long long as Redis' string2ll reads it (no sign but '-', no leading zeros, no "-0", no
 * spaces, 64-bit), or null where Redis answers "value is not an integer or out of range".
 */
export function parseLongLong(text: string): number | null {
  if (!/^(0|-?[1-9]\d*)$/.test(text)) return null;
  const value = BigInt(text);
  return value < I64_MIN || value > I64_MAX ? null : Number(value);
}
