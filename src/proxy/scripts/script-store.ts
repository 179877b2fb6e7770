import { hash } from 'node:crypto';

export interface ScriptStoreLimits {
  /** Most scripts kept. */
  maxScripts: number;
  /** Most bytes of script bodies kept (a body larger than this is not kept at all). */
  maxBytes: number;
}

/** Enough for the scripts of many applications; a script heavier than 8 MB is not worth keeping. */
export const DEFAULT_SCRIPT_LIMITS: ScriptStoreLimits = { maxScripts: 4096, maxBytes: 8 * 1024 * 1024 };

/** The lower-case sha1 hex of a script body: the name Redis gives it (SCRIPT LOAD's reply, EVALSHA's argument). */
export function scriptSha(body: Buffer): string {
  return hash('sha1', body, 'hex');
}

/**
 * The Lua scripts slotgate has seen (SCRIPT LOAD, EVAL, EVAL_RO), by sha1, so that an EVALSHA
 * answered `-NOSCRIPT` by a node that lacks the script (a new master, a slot moved to a node
 * whose script cache was flushed or never had it) can be healed by loading it there. Bounded
 * in count and bytes: the least recently used scripts are dropped first.
 */
export class ScriptStore {
  /** Insertion order is recency order (a script used again is moved to the end). */
  private readonly bodies = new Map<string, Buffer>();
  private totalBytes = 0;

  constructor(private readonly limits: ScriptStoreLimits = DEFAULT_SCRIPT_LIMITS) {}

  get size(): number {
    return this.bodies.size;
  }

  /** Bytes of the bodies kept. */
  get bytes(): number {
    return this.totalBytes;
  }

  /**
   * Keeps `body` (copied: it may be a view of a reused read buffer) and returns its sha. A body
   * already kept is only marked as recently used.
   */
  remember(body: Buffer): string {
    const sha = scriptSha(body);
    const known = this.bodies.get(sha);
    if (known !== undefined) {
      this.touch(sha, known);
      return sha;
    }
    if (body.length > this.limits.maxBytes || this.limits.maxScripts === 0) return sha;
    this.bodies.set(sha, Buffer.from(body));
    this.totalBytes += body.length;
    this.evict();
    return sha;
  }

  /** The body of the script named `sha` (lower-case hex), if kept; marks it as recently used. */
  get(sha: string): Buffer | undefined {
    const body = this.bodies.get(sha);
    if (body !== undefined) this.touch(sha, body);
    return body;
  }

  /** Forgets every script (SCRIPT FLUSH: the nodes forget them too, so must slotgate). */
  clear(): void {
    this.bodies.clear();
    this.totalBytes = 0;
  }

  private touch(sha: string, body: Buffer): void {
    this.bodies.delete(sha);
    this.bodies.set(sha, body);
  }

  /** Drops the least recently used scripts until both limits hold. */
  private evict(): void {
    for (const [sha, body] of this.bodies) {
      if (this.bodies.size <= this.limits.maxScripts && this.totalBytes <= this.limits.maxBytes) return;
      this.bodies.delete(sha);
      this.totalBytes -= body.length;
    }
  }
}
