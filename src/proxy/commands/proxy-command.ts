import { MapReply, OK, arrayReply, encodeReply, errorReply, integerReply } from '../../resp/encode.js';
import { textReply } from './local-handlers.js';
import { globMatch } from '../../util/glob.js';
import type { ClusterHandler } from './cluster-wide.js';

const HELP = [
  'PROXY <subcommand> [<arg> ...]. Subcommands are:',
  'INFO',
  "    slotgate's counters and topology facts.",
  'CONFIG GET <pattern>',
  '    Options matching the pattern, with their values (secrets redacted).',
  'CONFIG SET <option> <value>',
  '    Change a runtime option: cross-slot, admin-commands, log-level, max-clients,',
  '    client-max-pending, max-redirects, request-timeout.',
  'CLUSTER',
  '    The masters slotgate routes to: slots, links, requests in flight, last refresh.',
  'CLUSTER UPDATE',
  '    Refresh the slot map now.',
  'CLIENT LIST',
  '    The connected clients.',
  'CLIENT COUNT',
  '    The number of connected clients.',
  'COMMAND [<name> ...]',
  '    What slotgate does with each command: policy and merge.',
  'HELP',
  '    This text.',
];

function wrongArgs(sub: string): Buffer {
  return errorReply(`ERR wrong number of arguments for 'proxy|${sub}' command`);
}

/**
 * PROXY: slotgate's own admin command (answered by slotgate, never sent to a node). Encoded as
 * Redis encodes its counterparts: texts as INFO (verbatim in RESP3), options as CONFIG GET (a map).
 */
export const proxy: ClusterHandler = async (ops, client, args) => {
  const sub = args[1].toString('latin1').toLowerCase();
  const server = client.server;
  const rest = args.slice(2).map((a) => a.toString('utf8'));
  switch (sub) {
    case 'help':
      return arrayReply(HELP);
    case 'info':
      return textReply(client, server.proxyInfo());
    case 'config': {
      const action = rest[0]?.toLowerCase();
      if (action === 'get' && rest.length === 2) {
        const pattern = Buffer.from(rest[1]);
        const pairs = server.options().filter((o) => globMatch(pattern, Buffer.from(o.name)));
        return encodeReply(new MapReply(pairs.flatMap((o) => [o.name, o.value])), client.protocol);
      }
      if (action === 'set' && rest.length === 3) {
        const failure = server.setOption(rest[1].toLowerCase(), rest[2]);
        return failure === null ? OK : errorReply(`ERR ${failure}`);
      }
      return wrongArgs('config');
    }
    case 'cluster': {
      if (rest.length === 0) return textReply(client, server.clusterDescription());
      if (rest.length === 1 && rest[0].toLowerCase() === 'update') {
        await ops.router.refresh('admin');
        return server.coveredSlots > 0 ? OK : errorReply('CLUSTERDOWN slotgate: no master answered the refresh');
      }
      return wrongArgs('cluster');
    }
    case 'client': {
      const action = rest[0]?.toLowerCase();
      if (action === 'list' && rest.length === 1) return textReply(client, server.clientList());
      if (action === 'count' && rest.length === 1) return integerReply(server.clientCount);
      return wrongArgs('client');
    }
    case 'command':
      return arrayReply(server.routingTable(rest.map((r) => r.toLowerCase())));
    default:
      return errorReply(`ERR unknown subcommand '${args[1].toString('utf8')}'. Try PROXY HELP.`);
  }
};
