import { describe, expect, it } from 'vitest';
import { handshakeCommand } from '../../../src/upstream/node-link.js';

describe('handshakeCommand (what a new node link sends first)', () => {
  it('RESP2 links send nothing without credentials, AUTH with them', () => {
    expect(handshakeCommand(2, {})).toBeNull();
    expect(handshakeCommand(2, { password: 'pw' })).toEqual(['AUTH', 'pw']);
    expect(handshakeCommand(2, { user: 'u', password: 'pw' })).toEqual(['AUTH', 'u', 'pw']);
  });

  it('RESP3 links send HELLO 3, with the credentials inside (user default when only a password)', () => {
    expect(handshakeCommand(3, {})).toEqual(['HELLO', '3']);
    expect(handshakeCommand(3, { password: 'pw' })).toEqual(['HELLO', '3', 'AUTH', 'default', 'pw']);
    expect(handshakeCommand(3, { user: 'u', password: 'pw' })).toEqual(['HELLO', '3', 'AUTH', 'u', 'pw']);
  });
});
