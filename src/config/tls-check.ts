import type { SlotgateConfig } from './config.js';

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
