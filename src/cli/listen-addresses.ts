// What the controller's banner says about where it listens: the address the socket is really
// bound to, and, for a wildcard bind (0.0.0.0 or ::), that it is every interface and the
// addresses this machine has, so nobody reads 127.0.0.1 where other hosts can connect too.
import { networkInterfaces } from 'node:os';

export interface BoundAddress {
  address: string;
  port: number;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

export function isWildcard(address: string): boolean {
  return WILDCARDS.has(address);
}

function hostPort(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/** The machine's addresses (IPv4 first, loopback first, no link-local IPv6: it needs a zone). */
export function machineAddresses(ipv6: boolean): string[] {
  const out: { address: string; v6: boolean; loopback: boolean }[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      const v6 = a.family === 'IPv6';
      if (v6 && (!ipv6 || a.address.toLowerCase().startsWith('fe80:'))) continue;
      out.push({ address: a.address, v6, loopback: a.internal });
    }
  }
  out.sort((x, y) => Number(x.v6) - Number(y.v6) || Number(y.loopback) - Number(x.loopback));
  return [...new Set(out.map((a) => a.address))];
}

/**
 * "http://127.0.0.1:8080", or for a wildcard bind "http://0.0.0.0:8080 (all interfaces)";
 * `reachable` then lists a URL per machine address.
 */
export function describeListen(bound: BoundAddress, scheme = ''): { main: string; reachable: string[] } {
  const prefix = scheme ? `${scheme}://` : '';
  if (!isWildcard(bound.address)) return { main: `${prefix}${hostPort(bound.address, bound.port)}`, reachable: [] };
  const shown = bound.address === '' ? '0.0.0.0' : bound.address;
  return {
    main: `${prefix}${hostPort(shown, bound.port)} (all interfaces)`,
    reachable: machineAddresses(shown === '::').map((a) => `${prefix}${hostPort(a, bound.port)}`),
  };
}
