import { describe, expect, it } from 'vitest';
import { shaArgument } from '../../../../src/proxy/scripts/noscript-recovery.js';
import { encodeCommand } from '../../../../src/resp/encode.js';

const SHA = 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db';

describe('shaArgument', () => {
  it('reads the sha of a RESP EVALSHA request, in lower case, from inside a larger buffer', () => {
    const request = encodeCommand(['EVALSHA', SHA.toUpperCase(), '1', 'key']);
    const buf = Buffer.concat([Buffer.from('junk'), request, Buffer.from('*1\r\n$4\r\nPING\r\n')]);
    expect(shaArgument(buf, 4, 4 + request.length)).toBe(SHA);
  });

  it('reads the sha of an inline request', () => {
    const buf = Buffer.from(`evalsha_ro ${SHA} 0\r\n`);
    expect(shaArgument(buf, 0, buf.length)).toBe(SHA);
  });

  it('gives null when there is no argument of 40 characters where the sha goes', () => {
    for (const args of [['EVALSHA', 'abc', '0'], ['EVALSHA'], ['EVALSHA', `${SHA}0`, '0']]) {
      const buf = encodeCommand(args);
      expect(shaArgument(buf, 0, buf.length), args.join(' ')).toBeNull();
    }
  });
});
