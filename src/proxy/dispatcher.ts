import { errorReply } from '../resp/encode.js';
import { CROSS_SLOT, findSlot } from './commands/key-finder.js';
import type { CommandSpec, CommandTable } from './commands/table.js';
import type { LocalHandler } from './commands/local-handlers.js';
import type { ClusterHandler } from './commands/cluster-wide.js';
import { ClusterDownError, ClusterOps } from './fanout/cluster-ops.js';
import { Gather } from './fanout/gather.js';
import { merge, mergeOrderedArray } from './fanout/merge.js';
import { encodeGroup, groupSize, hasWholeGroups, planSplit, writeGroup } from './fanout/split.js';
import { Request } from './request.js';
import { CommandStats } from '../telemetry/command-stats.js';
import type { Router } from './router.js';
import type { Session } from './session.js';
import type { Logger } from '../telemetry/logger.js';
import type { PrivateContext } from './private/private-context.js';
import { copyRawRequest } from './raw-request.js';
import { BlockedCall } from './private/blocked-call.js';
import { Transaction } from './private/transaction.js';
import { Subscription } from './private/subscription.js';

/** The settings dispatch reads on every request (changeable at run time with PROXY CONFIG SET). */
export interface DispatchSettings {
  crossSlot: 'split' | 'reject';
  adminCommands: boolean;
}

const NO_BYTES = Buffer.alloc(0);

const NOAUTH = errorReply('NOAUTH Authentication required.');
const CROSSSLOT = errorReply("CROSSSLOT Keys in request don't hash to the same slot");

/**
 * Decides what happens to each request, reading only the command table: answer it locally,
 * refuse it, or forward its original bytes to the master of its keys' slot.
 */
export class Dispatcher {
  private readonly ops: ClusterOps;
  /** Logs each request at trace level; null unless that level is on (then a request costs one check). */
  private trace: Logger | null = null;
  /** Per-command counts and reply times (metrics), bound to each table's commands by name. */
  readonly commandStats = new CommandStats();
  private current: CommandTable;

  constructor(
    table: CommandTable,
    private readonly router: Router,
    private readonly settings: DispatchSettings,
    private readonly privateLinks: PrivateContext,
  ) {
    this.ops = new ClusterOps(router);
    this.commandStats.bind(table.all());
    this.current = table;
  }

  get table(): CommandTable {
    return this.current;
  }

  /** A new table (the cluster's own COMMAND) keeps counting into the same stats. */
  set table(table: CommandTable) {
    this.commandStats.bind(table.all());
    this.current = table;
  }

  /**
   * Turns the per-request trace log on or off as `log`'s level says (call again when it changes).
   * It names the command and counts the arguments, never shows them: AUTH and HELLO carry passwords.
   */
  traceTo(log: Logger): void {
    this.trace = log.isLevelEnabled('trace') ? log : null;
  }

  /** `settled`: dispatched again after a subscription sync (see Subscription.whileSubscribed). */
  dispatch(session: Session, buf: Buffer, start: number, end: number, argc: number, args: Int32Array, settled = false): void {
    const top = this.current.lookup(buf, args[0], args[1]);
    session.command = top === undefined ? this.commandStats.other : top.stat;
    if (top === undefined) return refuse(session, unknownCommand(buf, argc, args));
    let spec = top;
    if (top.subcommands !== null && argc >= 2) {
      const sub = top.subcommands.find(buf, args[2], args[3]);
      if (sub === undefined) {
        const given = printable(buf.toString('utf8', args[2], args[3]));
        const reply = errorReply(`ERR unknown subcommand '${given}'. Try ${top.name.toUpperCase()} HELP.`);
        return refuse(session, reply);
      }
      spec = sub;
    }
    if (this.trace !== null) this.trace.trace({ client: session.id, command: spec.name, args: argc - 1 }, 'request');
    const early = this.precheck(session, spec, buf, argc, args);
    if (early !== null) return refuse(session, early);
    // Connection state first: a subscribed client, or one inside MULTI, is served by its own link.
    if (session.subscription !== null && spec.pubsub === null && !settled) {
      const raw = { spec, buf, start, end, argc, args };
      const copy = copyRawRequest(raw);
      const again = (): void => this.dispatch(session, copy.buf, 0, copy.end, argc, copy.args, true);
      return Subscription.whileSubscribed(session, raw, again);
    }
    if (session.transaction !== null && spec.policy !== 'transaction' && session.transaction.inMulti) {
      return Transaction.queue(session, { spec, buf, start, end, argc, args });
    }

    switch (spec.policy) {
      case 'forward':
      case 'split': {
        if (spec.blockingWithKeyword !== null && hasKeyword(buf, argc, args, spec.blockingWithKeyword)) {
          return this.blocking(session, spec, buf, start, end, argc, args);
        }
        const slot = spec.fixedSlot < 0 ? findSlot(spec, buf, argc, args) : spec.fixedSlot;
        if (slot === CROSS_SLOT) {
          if (spec.policy === 'split' && this.settings.crossSlot === 'split') {
            if (session.channel !== null) return this.redispatchAfterPrivate(session, spec, buf, start, end, argc, args);
            return this.split(session, spec, buf, argc, args);
          }
          return session.enqueue(Request.answered(session, CROSSSLOT));
        }
        if (spec.remembersScript) this.router.scripts.store.remember(buf.subarray(args[2], args[3]));
        const request = new Request(session, buf, start, end, slot);
        request.readOnly = spec.readOnly;
        if (session.channel !== null) return this.afterPrivate(session, request, () => this.router.route(request));
        session.enqueue(request);
        this.router.route(request);
        return;
      }
      case 'transaction':
        return Transaction.step(this.privateLinks, session, { spec, buf, start, end, argc, args });
      case 'blocking':
        return this.blocking(session, spec, buf, start, end, argc, args);
      case 'pubsub':
        return Subscription.step(this.privateLinks, session, { spec, buf, start, end, argc, args });
      case 'local':
        return answerLocally(session, spec.handler as LocalHandler, argv(buf, argc, args));
      case 'admin':
        if (!this.settings.adminCommands) return session.enqueue(Request.answered(session, refusal(spec)));
        if (spec.handler !== null) return answerLocally(session, spec.handler, argv(buf, argc, args));
        if (session.channel !== null) return this.redispatchAfterPrivate(session, spec, buf, start, end, argc, args);
        return this.runOnCluster(session, spec, argv(buf, argc, args));
      case 'cluster':
        if (session.channel !== null) return this.redispatchAfterPrivate(session, spec, buf, start, end, argc, args);
        return this.runOnCluster(session, spec, argv(buf, argc, args));
      default:
        return session.enqueue(Request.answered(session, refusal(spec)));
    }
  }

  /**
   * A multi-key command across slots: one sub-command per slot (those for the same node go out
   * in the same write, the link's), the client's reply merged once all are in.
   */
  private split(session: Session, spec: CommandSpec, buf: Buffer, argc: number, args: Int32Array): void {
    if (!hasWholeGroups(spec, argc)) {
      return session.enqueue(Request.answered(session, errorReply(`ERR wrong number of arguments for '${spec.name}' command`)));
    }
    const plan = planSplit(spec, buf, argc, args);
    this.router.stats.fanoutSubrequests += plan.slots.length;
    const parent = new Request(session, NO_BYTES, 0, 0, -1);
    session.enqueue(parent);
    const kind = spec.merge ?? 'all-ok';
    const gather = new Gather(session.id, session.protocol, session.batch, plan.slots.length, (replies) => {
      const reply = kind === 'ordered-array' ? mergeOrderedArray(replies, plan) : merge(kind, replies);
      parent.complete(reply, 0, reply.length);
    });
    for (let g = 0; g < plan.slots.length; g++) {
      const slot = plan.slots[g];
      const link = this.router.linkForSlot(slot, session.id, session.protocol);
      if (link === null) {
        // No open link for the slot now: the router parks it (or fails it) as any request.
        const parked = gather.child(g, encodeGroup(plan, g, buf, args), slot);
        parked.readOnly = spec.readOnly;
        this.router.route(parked);
        continue;
      }
      const size = groupSize(plan, g, args);
      const at = link.reserve(size);
      writeGroup(plan, g, buf, args, link.outputBuffer, at);
      const child = gather.child(g, link.outputBuffer, slot, at, at + size);
      child.readOnly = spec.readOnly;
      this.router.stamp(child);
      link.sendReserved(child, at, size);
    }
  }

  /**
   * A command answered by asking the cluster: its place in the reply order is kept meanwhile,
   * and the client's later requests wait for it (they must not run on the nodes before it).
   */
  private runOnCluster(session: Session, spec: CommandSpec, args: Buffer[]): void {
    const parent = new Request(session, NO_BYTES, 0, 0, -1);
    session.enqueue(parent);
    session.holdUntilAnswered(parent);
    (spec.cluster as ClusterHandler)(this.ops, session, args).then(
      (reply) => parent.complete(reply, 0, reply.length),
      (error: Error) => parent.fail(error instanceof ClusterDownError ? errorReply(error.message) : errorReply(`ERR slotgate: ${error.message}`)),
    );
  }

  /**
   * A blocking command: alone on a dedicated link once the client's earlier requests are
   * answered, and nothing later from the client runs before its reply (as on Redis).
   */
  private blocking(session: Session, spec: CommandSpec, buf: Buffer, start: number, end: number, argc: number, args: Int32Array): void {
    const slot = findSlot(spec, buf, argc, args);
    if (slot === CROSS_SLOT) return session.enqueue(Request.answered(session, CROSSSLOT));
    const request = new Request(session, buf, start, end, slot);
    request.timed = false; // blocked time is not slowness (Redis' slow log leaves it out too)
    const call = new BlockedCall(this.privateLinks, session, request);
    session.channel = null;
    session.enqueueWhenHead(request, () => call.start(), true);
  }

  /**
   * A request for the shared links right after requests on a dedicated one (a WATCH, say):
   * it waits until they are answered, so it cannot overtake them at the node.
   */
  private afterPrivate(session: Session, request: Request, send: () => void): void {
    session.channel = null;
    session.enqueueWhenHead(request, send, false);
  }

  /**
   * A request that reaches the nodes in several parts (a split, a whole-cluster command) right
   * after requests on a dedicated link: a copy of it is dispatched again once they are answered.
   * A placeholder (answered with nothing) keeps its place in the reply order meanwhile.
   */
  private redispatchAfterPrivate(session: Session, spec: CommandSpec, buf: Buffer, start: number, end: number, argc: number, args: Int32Array): void {
    const copy = copyRawRequest({ spec, buf, start, end, argc, args });
    const placeholder = new Request(session, NO_BYTES, 0, 0, -1);
    session.channel = null;
    session.enqueueWhenHead(
      placeholder,
      () => {
        placeholder.complete(NO_BYTES, 0, 0);
        this.dispatch(session, copy.buf, 0, copy.end, argc, copy.args);
      },
      false,
    );
  }

  /** Arity, authentication and ACL checks, in Redis' order; null when the request may go on. */
  private precheck(session: Session, spec: CommandSpec, buf: Buffer, argc: number, args: Int32Array): Buffer | null {
    if ((spec.arity > 0 && argc !== spec.arity) || argc < -spec.arity) {
      return errorReply(`ERR wrong number of arguments for '${spec.name}' command`);
    }
    if (!session.authenticated && !spec.noAuth) return NOAUTH;
    const user = session.user;
    if (user !== null && !user.unrestricted) return user.check(this.table, spec, buf, argc, args);
    return null;
  }
}

/** The request's arguments as buffers of their own (the read buffer is reused). */
function argv(buf: Buffer, argc: number, args: Int32Array): Buffer[] {
  const list: Buffer[] = [];
  for (let i = 0; i < argc; i++) list.push(Buffer.from(buf.subarray(args[i * 2], args[i * 2 + 1])));
  return list;
}

/**
 * Answers a request refused before it could run (unknown command, arity, NOAUTH, NOPERM). As on
 * Redis, such a refusal inside MULTI makes EXEC abort.
 */
function refuse(session: Session, reply: Buffer): void {
  if (session.transaction !== null) Transaction.flagRefused(session);
  session.enqueue(Request.answered(session, reply));
}

function answerLocally(session: Session, handler: LocalHandler, args: Buffer[]): void {
  session.enqueue(Request.answered(session, handler(session, args)));
}

function refusal(spec: CommandSpec): Buffer {
  const name = spec.name.replace('|', ' ').toUpperCase();
  if (spec.policy === 'admin') {
    return errorReply(`ERR slotgate: ${name} is an administrative command, allowed only with admin-commands enabled (then ${spec.whenAllowed})`);
  }
  if (spec.policy === 'private') {
    return errorReply(`ERR slotgate: ${name} is tied to a node connection slotgate shares with other clients, so it is not supported`);
  }
  const why = spec.detail === '' ? '' : `: ${spec.detail}`;
  return errorReply(`ERR slotgate: ${name} is not allowed through the proxy${why}`);
}

function hasKeyword(buf: Buffer, argc: number, args: Int32Array, keyword: string): boolean {
  for (let i = 1; i < argc; i++) {
    const s = args[i * 2];
    const e = args[i * 2 + 1];
    if (e - s === keyword.length && buf.toString('latin1', s, e).toLowerCase() === keyword) return true;
  }
  return false;
}

/** Redis' text: `unknown command 'x', with args beginning with: 'a' 'b' ` (args up to 128 chars). */
function unknownCommand(buf: Buffer, argc: number, args: Int32Array): Buffer {
  const name = printable(buf.toString('utf8', args[0], args[1])).slice(0, 128);
  let list = '';
  for (let i = 1; i < argc && list.length < 128; i++) {
    list += `'${printable(buf.toString('utf8', args[i * 2], args[i * 2 + 1])).slice(0, 128 - list.length)}' `;
  }
  return errorReply(`ERR unknown command '${name}', with args beginning with: ${list}`);
}

function printable(text: string): string {
  return text.replace(/[\r\n]/g, ' ');
}
