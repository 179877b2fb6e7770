// The Redis pod start script's nodes.conf rewrite (k8s/base/redis/scripts/start.sh), run by bash
// on sample files: only the `myself` line's address changes, port, bus port and hostname stay.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const scripts = fileURLToPath(new URL('../../../k8s/base/redis/scripts', import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slotgate-start-sh-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function rewrite(conf: string, ip: string): string {
  const file = path.join(dir, `nodes-${Math.random().toString(36).slice(2)}.conf`);
  fs.writeFileSync(file, conf);
  execFileSync('bash', ['-c', `source "${scripts}/start.sh" && rewrite_myself_ip "$1" "$2"`, 'x', file, ip], {
    env: { ...process.env, START_SH_LIB: '1' },
  });
  return fs.readFileSync(file, 'utf8');
}

const A = 'e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca';
const B = '67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1';
const C = '292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f';

describe('start.sh rewrite_myself_ip', () => {
  it('changes the myself line only', () => {
    const conf = [
      `${B} 10.77.0.12:6379@16379 master - 0 1700000000000 2 connected 5461-10922`,
      `${A} 10.77.0.11:6379@16379 myself,master - 0 1700000000000 1 connected 0-5460`,
      `${C} 10.77.0.13:6379@16379 slave ${A} 0 1700000000000 1 connected`,
      'vars currentEpoch 6 lastVoteEpoch 0',
      '',
    ].join('\n');
    expect(rewrite(conf, '10.77.0.42')).toBe(conf.replace('10.77.0.11:6379@16379 myself', '10.77.0.42:6379@16379 myself'));
  });

  it('keeps the hostname, works on a replica, on an address Redis did not know and with IPv6', () => {
    expect(rewrite(`${A} 10.1.2.3:6380@16380,redis-cluster-0 myself,slave ${B} 0 0 3 connected\n`, '10.9.9.9')).toBe(
      `${A} 10.9.9.9:6380@16380,redis-cluster-0 myself,slave ${B} 0 0 3 connected\n`,
    );
    expect(rewrite(`${A} :0@0 myself,master - 0 0 0 connected\n`, '10.9.9.9')).toBe(
      `${A} 10.9.9.9:0@0 myself,master - 0 0 0 connected\n`,
    );
    expect(rewrite(`${A} fd00::1:6379@16379 myself,master - 0 0 1 connected 0-16383\n`, 'fd00::2')).toBe(
      `${A} fd00::2:6379@16379 myself,master - 0 0 1 connected 0-16383\n`,
    );
  });

  it('leaves a file without a myself line as it is', () => {
    const conf = `${B} 10.77.0.12:6379@16379 master - 0 0 2 connected 0-16383\nvars currentEpoch 2 lastVoteEpoch 0\n`;
    expect(rewrite(conf, '10.9.9.9')).toBe(conf);
  });

  it('both scripts are bash -n clean', () => {
    for (const s of ['start.sh', 'create-cluster.sh']) execFileSync('bash', ['-n', path.join(scripts, s)]);
  });
});
