/** A seed node address: `host:port`, `dns-name:port` or `[ipv6]:port`. */
export interface SeedAddress {
  /** Hostname, IPv4 or IPv6 address (IPv6 without the brackets, ready for net.connect). */
  host: string;
  port: number;
}

// Hostnames (incl. Kubernetes headless Service names) and IPv4 literals. Underscores are not
// valid in hostnames but do occur in DNS records, so they are tolerated.
const HOST_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?$/;
// IPv6 literal, optionally with a zone id (fe80::1%eth0).
const IPV6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?:%[\w.-]+)?$/;

/** Splits and checks a seed; returns an error message (for config validation) or the address. */
export function parseSeed(seed: string): SeedAddress | string {
  const colon = seed.lastIndexOf(':');
  if (colon < 0) return `seed "${seed}" must be host:port`;
  let host = seed.slice(0, colon);
  const portText = seed.slice(colon + 1);

  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
    if (!IPV6.test(host)) return `seed "${seed}" has an invalid IPv6 address`;
  } else if (host.includes(':')) {
    // Without brackets, "::1:7000" cannot say where the address ends and the port begins.
    return `seed "${seed}": write an IPv6 address in brackets, e.g. [::1]:7000`;
  } else if (!HOST_NAME.test(host)) {
    return host === '' ? `seed "${seed}" has no host` : `seed "${seed}" has an invalid host`;
  }

  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) return `seed "${seed}" needs a port between 1 and 65535`;
  return { host, port };
}

/** For the schema's per-item check: the error message, or undefined when the seed is valid. */
export function checkSeed(seed: string): string | undefined {
  const result = parseSeed(seed);
  return typeof result === 'string' ? result : undefined;
}
