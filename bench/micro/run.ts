/**
 * Micro-benchmarks of the per-request steps, each against the naive way of doing the same:
 *   npm run build && node dist/bench/micro/run.js
 * Prints nanoseconds per operation (median of 5 timed batches after a warm-up).
 */
import calculateSlot from 'cluster-key-slot';
import RedisParser from 'redis-parser';
import { slotOfKey } from '../../src/cluster/key-slot.js';
import { fallbackCommandTable } from '../../src/proxy/commands/table.js';
import { RequestScanner } from '../../src/resp/request-scanner.js';
import { ReplyScanner } from '../../src/resp/reply-scanner.js';
import { arrayReply, encodeCommand } from '../../src/resp/encode.js';
import { groupKeyArgs, groupSize, planSplit, writeGroup, type SplitPlan } from '../../src/proxy/fanout/split.js';
import { mergeOrderedArray } from '../../src/proxy/fanout/merge.js';
import { Counter, Histogram, Registry } from 'prom-client';
import { CommandStats, DURATION_BUCKETS_SECONDS } from '../../src/telemetry/command-stats.js';
import { writePathBenchmarks } from './write-path.js';

/** Each group's key argument indexes (the plan keeps them flat). */
const keyArgsOf = (plan: SplitPlan): number[][] => plan.slots.map((_, g) => groupKeyArgs(plan, g));

function measure(name: string, ops: number, fn: () => void): number {
  for (let i = 0; i < 3; i++) fn(); // warm-up: let the JIT settle
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - start) / ops);
  }
  const median = times.sort((a, b) => a - b)[2];
  console.log(`${name.padEnd(58)} ${median.toFixed(1).padStart(8)} ns/op`);
  return median;
}

function compare(what: string, ours: number, naive: number): void {
  console.log(`  -> ${what}: ${(naive / ours).toFixed(1)}x faster than the naive way\n`);
}

// Keys as they sit in a request buffer.
const keys = Array.from({ length: 1000 }, (_, i) => `key:${String(i * 7919).padStart(12, '0')}`);
const keyBuf = Buffer.from(keys.join(''));
const N = 200_000;

{
  const ours = measure('slot: slotOfKey on the request bytes', N, () => {
    let off = 0;
    for (let i = 0; i < N; i++) {
      const k = keys[i % 1000];
      if (i % 1000 === 0) off = 0;
      slotOfKey(keyBuf, off, off + k.length);
      off += k.length;
    }
  });
  const naive = measure('slot: cluster-key-slot on a subarray copy of the key', N, () => {
    let off = 0;
    for (let i = 0; i < N; i++) {
      const k = keys[i % 1000];
      if (i % 1000 === 0) off = 0;
      calculateSlot(keyBuf.subarray(off, off + k.length));
      off += k.length;
    }
  });
  compare('slot', ours, naive);
}

{
  const table = fallbackCommandTable();
  const names = ['GET', 'SET', 'get', 'HGETALL', 'ZADD', 'MGET', 'incr', 'EXPIRE'];
  const buf = Buffer.from(names.join(''));
  const offsets: number[] = [];
  let o = 0;
  for (const n of names) {
    offsets.push(o, o + n.length);
    o += n.length;
  }
  const naiveMap = new Map<string, unknown>();
  for (const n of ['get', 'set', 'hgetall', 'zadd', 'mget', 'incr', 'expire']) naiveMap.set(n, table.get(n));
  const ours = measure('lookup: command table on the name bytes', N, () => {
    for (let i = 0; i < N; i++) {
      const j = (i % names.length) * 2;
      table.lookup(buf, offsets[j], offsets[j + 1]);
    }
  });
  const naive = measure('lookup: Map of lower-case strings (toString + toLowerCase)', N, () => {
    for (let i = 0; i < N; i++) {
      const j = (i % names.length) * 2;
      naiveMap.get(buf.toString('latin1', offsets[j], offsets[j + 1]).toLowerCase());
    }
  });
  compare('lookup', ours, naive);
}

{
  // A client's pipeline of 16 GETs, as one socket chunk.
  const chunk = Buffer.concat(Array.from({ length: 16 }, (_, i) => encodeCommand(['GET', keys[i]])));
  const rounds = 20_000;
  let found = 0;
  const scanner = new RequestScanner(
    { onRequest: () => void found++, onProtocolError: () => {}, acceptsRequests: () => true },
    { maxBulkLen: 512 << 20, maxArgs: 1 << 20, maxBuffered: 1 << 30 },
  );
  const ours = measure('requests: RequestScanner, 16 GETs per chunk (per request)', rounds * 16, () => {
    for (let i = 0; i < rounds; i++) scanner.feed(chunk);
  });
  const parser = new RedisParser({ returnReply: () => void found++, returnError: () => {}, returnBuffers: true });
  const naive = measure('requests: redis-parser decoding the same chunk', rounds * 16, () => {
    for (let i = 0; i < rounds; i++) parser.execute(chunk);
  });
  compare('request scanning', ours, naive);

  const replies = Buffer.concat(Array.from({ length: 16 }, () => Buffer.from(`$64\r\n${'v'.repeat(64)}\r\n`)));
  const replyScanner = new ReplyScanner({ onReply: () => void found++, onReplyProtocolError: () => {} });
  const oursReplies = measure('replies: ReplyScanner frame ends, 16 bulk replies per chunk', rounds * 16, () => {
    for (let i = 0; i < rounds; i++) replyScanner.feed(replies);
  });
  const replyParser = new RedisParser({ returnReply: () => void found++, returnError: () => {}, returnBuffers: true });
  const naiveReplies = measure('replies: redis-parser decoding the same chunk', rounds * 16, () => {
    for (let i = 0; i < rounds; i++) replyParser.execute(replies);
  });
  compare('reply scanning', oursReplies, naiveReplies);
  if (found === 0) console.log('(nothing scanned?)');
}

{
  // A cross-slot MGET of 10 keys: split into sub-commands per slot, then the replies merged.
  const table = fallbackCommandTable();
  const mget = table.get('mget')!;
  const mgetKeys = keys.slice(0, 10);
  const request = encodeCommand(['MGET', ...mgetKeys]);
  // Argument offsets as the request scanner gives them.
  const args = new Int32Array(22);
  let at = 0;
  for (let i = 0, pos = request.indexOf('\r\n') + 2; i < 11; i++) {
    const len = Number(request.toString('latin1', pos + 1, request.indexOf('\r', pos)));
    const start = request.indexOf('\r\n', pos) + 2;
    args[at++] = start;
    args[at++] = start + len;
    pos = start + len + 2;
  }
  const rounds = 50_000;
  // slotgate writes each group straight into a link's output slab; here, into one scratch slab.
  const slab = Buffer.allocUnsafe(1 << 20);
  const ours = measure('split: planSplit + writeGroup into the output, MGET of 10 keys', rounds, () => {
    let at = 0;
    for (let i = 0; i < rounds; i++) {
      const plan = planSplit(mget, request, 11, args);
      if (at > slab.length - 4096) at = 0;
      for (let g = 0; g < plan.slots.length; g++) {
        const size = groupSize(plan, g, args);
        at = writeGroup(plan, g, request, args, slab, at);
        void size;
      }
    }
  });
  const naive = measure('split: keys as strings, grouped in a Map, encodeCommand', rounds, () => {
    for (let i = 0; i < rounds; i++) {
      const groups = new Map<number, string[]>();
      for (let k = 1; k < 11; k++) {
        const key = request.toString('latin1', args[k * 2], args[k * 2 + 1]);
        const slot = calculateSlot(key);
        const list = groups.get(slot) ?? [];
        list.push(key);
        groups.set(slot, list);
      }
      for (const list of groups.values()) encodeCommand(['MGET', ...list]);
    }
  });
  compare('split', ours, naive);

  const plan = planSplit(mget, request, 11, args);
  const replyBufs = keyArgsOf(plan).map((group) => Buffer.from(`*${group.length}\r\n` + group.map(() => `$64\r\n${'v'.repeat(64)}\r\n`).join('')));
  const replies = {
    count: replyBufs.length,
    bufs: replyBufs,
    starts: new Int32Array(replyBufs.length),
    ends: Int32Array.from(replyBufs.map((b) => b.length)),
  };
  const oursMerge = measure('merge: mergeOrderedArray of 10 one-key replies', rounds, () => {
    for (let i = 0; i < rounds; i++) mergeOrderedArray(replies, plan);
  });
  const naiveMerge = measure('merge: decode each reply (redis-parser), re-encode in key order', rounds, () => {
    for (let i = 0; i < rounds; i++) {
      const decoded: Buffer[][] = [];
      for (const b of replyBufs) {
        const parser = new RedisParser({ returnReply: (r: unknown) => void decoded.push(r as Buffer[]), returnError: () => {}, returnBuffers: true });
        parser.execute(b);
      }
      arrayReply(Array.from({ length: 10 }, (_, k) => decoded[plan.keyGroup[k]][plan.keyPos[k]]));
    }
  });
  compare('merge', oursMerge, naiveMerge);
}

{
  // What counting one request's reply costs: slotgate's plain fields (CommandStat.record, read
  // at scrape time) against feeding prom-client per request through pre-bound children.
  const stat = new CommandStats().forName('get');
  const times = Float64Array.from({ length: 1024 }, (_, i) => 0.05 + (i % 37) * 0.03); // 50 us to 1.1 ms
  const ours = measure('metrics: CommandStat.record (ok/error + bucket + sum)', N, () => {
    for (let i = 0; i < N; i++) stat.record(0x2b, times[i & 1023]);
  });
  const registry = new Registry();
  const counter = new Counter({ name: 'c', help: 'c', labelNames: ['command', 'result'], registers: [registry] });
  const histogram = new Histogram({ name: 'h', help: 'h', labelNames: ['command'], buckets: [...DURATION_BUCKETS_SECONDS], registers: [registry] });
  const okChild = counter.labels('get', 'ok');
  const histChild = histogram.labels('get');
  const naive = measure('metrics: prom-client bound counter.inc + histogram.observe', N, () => {
    for (let i = 0; i < N; i++) {
      okChild.inc();
      histChild.observe(times[i & 1023] / 1000);
    }
  });
  compare('metrics', ours, naive);
  measure('metrics: performance.now() (once per client read, once per reply drain)', N, () => {
    for (let i = 0; i < N; i++) performance.now();
  });
  measure('metrics: process.hrtime.bigint() (for comparison)', N, () => {
    for (let i = 0; i < N; i++) process.hrtime.bigint();
  });
}

// The session write path runs on a real socket (the kernel's share is most of it): CPU us per reply.
await writePathBenchmarks((name, us) => console.log(`${name.padEnd(58)} ${(us * 1000).toFixed(1).padStart(8)} ns/reply (CPU)`));
