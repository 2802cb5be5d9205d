// EtherType numbers (IEEE 802 numbers registry, as listed by IANA "IEEE 802 Numbers") and
// the short names `payflow replay` prints for frames that are not IP: the data plane keys
// only IPv4 and IPv6 by addresses and ports, so every other EtherType is one row.

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;

const NAMES: ReadonlyMap<number, string> = new Map([
  [ETHERTYPE_IPV4, 'ipv4'],
  [ETHERTYPE_IPV6, 'ipv6'],
  [0x0806, 'arp'],
  [0x8035, 'rarp'],
  [0x8100, 'vlan'],
  [0x88a8, 'qinq'],
  [0x8809, 'slow-protocols'], // LACP, marker, OAM (IEEE 802.3 annex 57A)
  [0x8847, 'mpls'],
  [0x8848, 'mpls-multicast'],
  [0x8863, 'pppoe-discovery'],
  [0x8864, 'pppoe-session'],
  [0x888e, 'eapol'], // IEEE 802.1X
  [0x88cc, 'lldp'], // IEEE 802.1AB
  [0x88e5, 'macsec'], // IEEE 802.1AE
  [0x88f7, 'ptp'], // IEEE 1588
  [0x8906, 'fcoe'],
  [0x9000, 'loopback'], // Ethernet configuration testing protocol
]);

export function isIpEtherType(etherType: number): boolean {
  return etherType === ETHERTYPE_IPV4 || etherType === ETHERTYPE_IPV6;
}

/** The short name of a known EtherType ("arp"), else null. */
export function etherTypeName(etherType: number): string | null {
  return NAMES.get(etherType) ?? null;
}

/** "0x0806": four hex digits, as EtherTypes are written. */
export function etherTypeHex(etherType: number): string {
  return `0x${etherType.toString(16).padStart(4, '0')}`;
}

/** "arp (0x0806)", or "ethertype 0x88b5" for one without a name. */
export function etherTypeLabel(etherType: number): string {
  const name = etherTypeName(etherType);
  return name === null ? `ethertype ${etherTypeHex(etherType)}` : `${name} (${etherTypeHex(etherType)})`;
}
