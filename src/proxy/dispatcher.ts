import { errorReply } from '../resp/encode.js';
import { CROSS_SLOT, findSlot } from './commands/key-finder.js';
import type { CommandSpec, CommandTable } from './commands/table.js';
import { Request } from './request.js';
import type { Router } from './router.js';
import type { Session } from './session.js';

const NOAUTH = errorReply('NOAUTH Authentication required.');
const CROSSSLOT = errorReply("CROSSSLOT Keys in request don't hash to the same slot");

/**
 * Decides what happens to each request, reading only the command table: answer it locally,
 * refuse it, or forward its original bytes to the master of its keys' slot.
 */
export class Dispatcher {
  constructor(
    public table: CommandTable,
    private readonly router: Router,
  ) {}

  dispatch(session: Session, buf: Buffer, start: number, end: number, argc: number, args: Int32Array): void {
    const top = this.table.lookup(buf, args[0], args[1]);
    if (top === undefined) return session.enqueue(Request.answered(session, unknownCommand(buf, argc, args)));
    let spec = top;
    if (top.subcommands !== null && argc >= 2) {
      const sub = top.subcommands.find(buf, args[2], args[3]);
      if (sub === undefined) {
        const given = printable(buf.toString('utf8', args[2], args[3]));
        const reply = errorReply(`ERR unknown subcommand '${given}'. Try ${top.name.toUpperCase()} HELP.`);
        return session.enqueue(Request.answered(session, reply));
      }
      spec = sub;
    }
    const early = this.precheck(session, spec, buf, argc, args);
    if (early !== null) return session.enqueue(Request.answered(session, early));

    if (spec.policy === 'forward') {
      const slot = findSlot(spec, buf, argc, args);
      if (slot === CROSS_SLOT) return session.enqueue(Request.answered(session, CROSSSLOT));
      const request = new Request(session, buf, start, end, slot);
      session.enqueue(request);
      this.router.route(request);
      return;
    }
    if (spec.policy === 'local' && spec.handler !== null) {
      const argv: Buffer[] = [];
      for (let i = 0; i < argc; i++) argv.push(Buffer.from(buf.subarray(args[i * 2], args[i * 2 + 1])));
      return session.enqueue(Request.answered(session, spec.handler(session, argv)));
    }
    session.enqueue(Request.answered(session, refusal(spec)));
  }

  /** Arity, authentication and connection-state checks, in Redis' order; null when the request may go on. */
  private precheck(session: Session, spec: CommandSpec, buf: Buffer, argc: number, args: Int32Array): Buffer | null {
    if ((spec.arity > 0 && argc !== spec.arity) || argc < -spec.arity) {
      return errorReply(`ERR wrong number of arguments for '${spec.name}' command`);
    }
    if (!session.authenticated && !spec.noAuth) return NOAUTH;
    if (spec.privateWithKeyword !== null && hasKeyword(buf, argc, args, spec.privateWithKeyword)) {
      return refusal({ ...spec, policy: 'private' });
    }
    return null;
  }
}

function refusal(spec: CommandSpec): Buffer {
  const name = spec.name.replace('|', ' ').toUpperCase();
  if (spec.policy === 'private') {
    return errorReply(`ERR slotgate: ${name} needs a dedicated node connection, which slotgate does not support yet`);
  }
  return errorReply(`ERR slotgate: ${name} is not allowed through the proxy`);
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
