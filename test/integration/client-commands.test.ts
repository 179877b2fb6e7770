import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { ProxyServer } from '../../src/proxy/server.js';
import { proxyClient, startTestProxy } from '../helpers/proxy.js';

let admin: ProxyServer;
let plain: ProxyServer;
const opened: Redis[] = [];

beforeAll(async () => {
  [admin, plain] = await Promise.all([startTestProxy(inject('clusterSeeds'), { adminCommands: true }), startTestProxy(inject('clusterSeeds'))]);
});

afterAll(async () => {
  await Promise.all([admin?.close(), plain?.close()]);
});

// Each test starts with no client left from the one before (CLIENT KILL counts every client).
afterEach(async () => {
  for (const c of opened.splice(0)) c.disconnect();
  for (let i = 0; admin.clientCount + plain.clientCount > 0; i++) {
    expect(i, 'clients of the previous test still connected').toBeLessThan(200);
    await new Promise((r) => setTimeout(r, 10));
  }
});

/** A client of `proxy` that does not reconnect once killed, connected and with its CLIENT INFO read. */
async function connect(proxy: ProxyServer): Promise<{ client: Redis; id: number; addr: string; laddr: string; closed: Promise<void> }> {
  const client = proxyClient(proxy, { retryStrategy: () => null });
  opened.push(client);
  const closed = new Promise<void>((resolve) => client.once('end', () => resolve()));
  const info = (await client.client('INFO')) as string;
  const field = (name: string): string => new RegExp(`(?:^| )${name}=(\\S+)`).exec(info)![1];
  return { client, id: Number(field('id')), addr: field('addr'), laddr: field('laddr'), closed };
}

function clientIds(list: string): number[] {
  return [...list.matchAll(/^id=(\d+) /gm)].map((m) => Number(m[1]));
}

describe('CLIENT KILL', () => {
  it('is refused as an administrative command without admin-commands', async () => {
    const { client } = await connect(plain);
    await expect(client.call('CLIENT', 'KILL', 'ID', '1')).rejects.toThrow(
      "ERR slotgate: CLIENT KILL is an administrative command, allowed only with admin-commands enabled (then acting on slotgate's own clients)",
    );
  });

  it('kills a client by ip:port (old form): +OK, its connection closes; an unknown address is "No such client"', async () => {
    const killer = await connect(admin);
    const victim = await connect(admin);
    expect(await killer.client.call('CLIENT', 'KILL', victim.addr)).toBe('OK');
    await victim.closed;
    expect(clientIds((await killer.client.client('LIST')) as string)).not.toContain(victim.id);
    await expect(killer.client.call('CLIENT', 'KILL', victim.addr)).rejects.toThrow(/^ERR No such client$/);
    await expect(killer.client.call('CLIENT', 'KILL', '10.0.0.1:1')).rejects.toThrow(/^ERR No such client$/);
    expect(await killer.client.ping()).toBe('PONG');
  });

  it('kills by ID and ADDR, answering the number killed, and skips the caller unless SKIPME no', async () => {
    const killer = await connect(admin);
    const a = await connect(admin);
    const b = await connect(admin);
    expect(await killer.client.call('CLIENT', 'KILL', 'ID', String(a.id))).toBe(1);
    await a.closed;
    expect(await killer.client.call('CLIENT', 'KILL', 'ID', String(a.id))).toBe(0);
    expect(await killer.client.call('CLIENT', 'KILL', 'ADDR', b.addr, 'ID', String(killer.id))).toBe(0);
    expect(await killer.client.call('CLIENT', 'KILL', 'addr', b.addr, 'skipme', 'yes')).toBe(1);
    await b.closed;
    expect(await killer.client.call('CLIENT', 'KILL', 'ID', String(killer.id))).toBe(0);
    expect(await killer.client.ping()).toBe('PONG');
    // The caller, with SKIPME no: the count comes back, then its connection closes.
    expect(await killer.client.call('CLIENT', 'KILL', 'ID', String(killer.id), 'SKIPME', 'no')).toBe(1);
    await killer.closed;
  });

  it('kills the caller itself with the old form, after the reply', async () => {
    const self = await connect(admin);
    expect(await self.client.call('CLIENT', 'KILL', self.addr)).toBe('OK');
    await self.closed;
  });

  it('kills every other client by LADDR or USER default; TYPE normal is every client', async () => {
    const killer = await connect(admin);
    const others = await Promise.all([connect(admin), connect(admin)]);
    const before = clientIds((await killer.client.client('LIST')) as string).length;
    expect(before).toBeGreaterThanOrEqual(3);
    expect(await killer.client.call('CLIENT', 'KILL', 'LADDR', '10.0.0.1:1')).toBe(0);
    expect(await killer.client.call('CLIENT', 'KILL', 'TYPE', 'pubsub')).toBe(0);
    expect(await killer.client.call('CLIENT', 'KILL', 'USER', 'default', 'LADDR', killer.laddr)).toBe(before - 1);
    await Promise.all(others.map((o) => o.closed));
    expect(clientIds((await killer.client.client('LIST')) as string)).toEqual([killer.id]);

    const more = await connect(admin);
    expect(await killer.client.call('CLIENT', 'KILL', 'TYPE', 'normal')).toBe(1);
    await more.closed;
  });

  it("gives Redis' errors for bad filters", async () => {
    const { client } = await connect(admin);
    await expect(client.call('CLIENT', 'KILL', 'ID', '0')).rejects.toThrow('ERR client-id should be greater than 0');
    await expect(client.call('CLIENT', 'KILL', 'ID', 'x')).rejects.toThrow('ERR client-id should be greater than 0');
    await expect(client.call('CLIENT', 'KILL', 'USER', 'nobody')).rejects.toThrow("ERR No such user 'nobody'");
    await expect(client.call('CLIENT', 'KILL', 'TYPE', 'bogus')).rejects.toThrow("ERR Unknown client type 'bogus'");
    await expect(client.call('CLIENT', 'KILL', 'SKIPME', 'maybe')).rejects.toThrow('ERR syntax error');
    await expect(client.call('CLIENT', 'KILL', 'NOPE', '1')).rejects.toThrow('ERR syntax error');
    await expect(client.call('CLIENT', 'KILL', 'ID', '1', 'ID')).rejects.toThrow('ERR syntax error');
    await expect(client.call('CLIENT', 'KILL')).rejects.toThrow("ERR wrong number of arguments for 'client|kill' command");
  });
});

describe('CLIENT NO-EVICT and NO-TOUCH', () => {
  it('accepts NO-EVICT on|off in any case (no effect behind a proxy), with syntax and arity errors as Redis', async () => {
    const { client } = await connect(plain);
    expect(await client.call('CLIENT', 'NO-EVICT', 'on')).toBe('OK');
    expect(await client.call('CLIENT', 'no-evict', 'OFF')).toBe('OK');
    await expect(client.call('CLIENT', 'NO-EVICT', 'maybe')).rejects.toThrow('ERR syntax error');
    await expect(client.call('CLIENT', 'NO-EVICT')).rejects.toThrow("ERR wrong number of arguments for 'client|no-evict' command");
    await expect(client.call('CLIENT', 'NO-EVICT', 'on', 'x')).rejects.toThrow("ERR wrong number of arguments for 'client|no-evict' command");
  });

  it('knows no NO-TOUCH on Redis 7.0 nodes, as Redis 7.0 itself', async () => {
    const { client } = await connect(plain);
    await expect(client.call('CLIENT', 'NO-TOUCH', 'on')).rejects.toThrow("ERR unknown subcommand 'NO-TOUCH'. Try CLIENT HELP.");
  });
});
