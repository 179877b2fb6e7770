import type { Prng } from './prng.js';

/**
 * Ways of cutting one byte stream into socket-like chunks. Every piece is a fresh copy, as a
 * socket delivers it, so a scanner cannot get away with reading past the end of a chunk.
 */

/** Cuts `input` at the given offsets (each in 1..length-1, in any order). */
export function cutAt(input: Buffer, offsets: number[]): Buffer[] {
  const sorted = [...new Set(offsets)].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const at of sorted) {
    pieces.push(Buffer.from(input.subarray(from, at)));
    from = at;
  }
  pieces.push(Buffer.from(input.subarray(from)));
  return pieces;
}

/** Every way of cutting `input` into two non-empty pieces. */
export function* twoPieceSplits(input: Buffer): Generator<{ at: number; pieces: Buffer[] }> {
  for (let at = 1; at < input.length; at++) yield { at, pieces: cutAt(input, [at]) };
}

/** `count` two-piece cuts at random offsets (plus the cuts next to both ends). */
export function* sampledTwoPieceSplits(input: Buffer, rng: Prng, count: number): Generator<{ at: number; pieces: Buffer[] }> {
  const offsets = [1, input.length - 1];
  for (let i = 0; i < count; i++) offsets.push(rng.int(1, input.length - 1));
  for (const at of offsets) yield { at, pieces: cutAt(input, [at]) };
}

export function oneBytePieces(input: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  for (let i = 0; i < input.length; i++) pieces.push(Buffer.from(input.subarray(i, i + 1)));
  return pieces;
}

/** Pieces of random sizes in 1..maxPiece. */
export function randomPieces(input: Buffer, rng: Prng, maxPiece: number): Buffer[] {
  const offsets: number[] = [];
  for (let at = rng.int(1, maxPiece); at < input.length; at += rng.int(1, maxPiece)) offsets.push(at);
  return cutAt(input, offsets);
}
