import type { SecureVersion } from 'node:tls';
import type { SlotgateConfig } from './config.js';

/** The versions `tls-protocols` may name, oldest first (Node dropped TLS 1.0 and 1.1 by default). */
const TLS_VERSIONS: readonly SecureVersion[] = ['TLSv1.2', 'TLSv1.3'];

/** `tls-protocols` (`TLSv1.2 TLSv1.3`, as Redis writes it): an error message, or undefined when valid. */
export function checkTlsProtocols(text: string): string | undefined {
  const names = text.split(/\s+/);
  const unknown = names.filter((n) => !(TLS_VERSIONS as readonly string[]).includes(n));
  return unknown.length > 0 ? `unknown TLS version ${unknown.join(', ')} (known: ${TLS_VERSIONS.join(', ')})` : undefined;
}

/** The oldest and newest version `tls-protocols` names (TLS knows ranges, not sets). */
export function tlsVersionRange(text: string): { minVersion: SecureVersion; maxVersion: SecureVersion } {
  const named = TLS_VERSIONS.filter((v) => text.split(/\s+/).includes(v));
  return { minVersion: named[0] ?? 'TLSv1.2', maxVersion: named[named.length - 1] ?? 'TLSv1.3' };
}

/**
 * Checks that the TLS options make sense together (each option alone is checked by the table).
 * Whether the files can be read and hold PEM is found out when slotgate loads them at start.
 */
export function tlsConfigErrors(config: SlotgateConfig): string[] {
  const errors: string[] = [];
  if (config.tlsPort !== undefined) {
    if (config.tlsCertFile === undefined || config.tlsKeyFile === undefined) {
      errors.push('tls-port needs tls-cert-file and tls-key-file');
    }
    // As Redis, which refuses to start with TLS but no CA: the default asks for client certificates.
    if (config.tlsAuthClients !== 'no' && config.tlsCaCertFile === undefined) {
      errors.push(`tls-auth-clients ${config.tlsAuthClients} needs tls-ca-cert-file to check client certificates (or set tls-auth-clients no)`);
    }
  } else if (config.tlsOnly) {
    errors.push('tls-only needs tls-port');
  } else if (config.tlsCertFile !== undefined || config.tlsKeyFile !== undefined || config.tlsCaCertFile !== undefined) {
    errors.push('tls-cert-file, tls-key-file and tls-ca-cert-file need tls-port (the TLS listener)');
  }
  if ((config.backendTlsCertFile === undefined) !== (config.backendTlsKeyFile === undefined)) {
    errors.push('backend-tls-cert-file and backend-tls-key-file go together');
  }
  const backendFiles = [config.backendTlsCaCertFile, config.backendTlsCertFile, config.backendTlsKeyFile, config.backendTlsServername];
  if (!config.backendTls && backendFiles.some((v) => v !== undefined)) {
    errors.push('backend-tls-* options are set but backend-tls is off');
  }
  return errors;
}
