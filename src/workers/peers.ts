import type { WorkerPeers } from '../proxy/client-context.js';
import { killClients, type KillFilter } from '../proxy/commands/client-control.js';
import type { ProxyServer } from '../proxy/server.js';
import type { FromWorker, PeerAnswer, PeerAsk } from './messages.js';

/**
 * Longest a CLIENT LIST / CLIENT KILL waits for the other workers (the primary gives each 1 s):
 * a worker that does not answer is left out rather than holding the client's replies up.
 */
export const PEER_TIMEOUT_MS = 1500;

/** The other workers, reached with peer-ask messages through the primary (worker side). */
export class PeersOverIpc implements WorkerPeers {
  private nextAskId = 1;
  private readonly waiting = new Map<number, (answers: PeerAnswer[]) => void>();

  constructor(private readonly send: (message: FromWorker) => void) {}

  async clientList(): Promise<string> {
    const answers = await this.ask({ kind: 'client-list' });
    return answers.map((a) => (a.kind === 'client-list' ? a.text : '')).join('');
  }

  async killClients(filter: KillFilter): Promise<number> {
    const answers = await this.ask({ kind: 'client-kill', filter });
    return answers.reduce((sum, a) => sum + (a.kind === 'client-kill' ? a.killed : 0), 0);
  }

  /** The primary's peer-reply to one of our asks. */
  answered(askId: number, answers: PeerAnswer[]): void {
    const done = this.waiting.get(askId);
    this.waiting.delete(askId);
    done?.(answers);
  }

  private ask(ask: PeerAsk): Promise<PeerAnswer[]> {
    const askId = this.nextAskId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.answered(askId, []), PEER_TIMEOUT_MS);
      this.waiting.set(askId, (answers) => {
        clearTimeout(timer);
        resolve(answers);
      });
      this.send({ type: 'slotgate:peer-ask', askId, ask });
    });
  }
}

/** This worker's answer to another worker's ask. */
export function answerPeer(proxy: ProxyServer, ask: PeerAsk): PeerAnswer {
  if (ask.kind === 'client-list') return { kind: 'client-list', text: proxy.clientList() };
  return { kind: 'client-kill', killed: killClients(proxy.clients(), ask.filter, null) };
}
