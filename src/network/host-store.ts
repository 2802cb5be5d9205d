// The host bindings, kept across restarts in the shared SQLite store (component 'network').
// A controller that forgets its hosts on restart leaves them unreachable until they speak
// again (their routes are gone from the switches), and lets any host claim a paying host's
// address first. Bindings are written as the topology learns them and deleted when they
// are released (port down, aged out); a switch disconnecting does not release them. Each
// host's last sighting is written too (saveSightings, at most once a second per host), so a
// restart restores when the host was really last seen, not the restart's own time.
import type { Migration, Store } from '../store/index.js';
import type { Host, Topology } from './topology.js';
import { formatDpid } from '../util/dpid.js';

export const NETWORK_COMPONENT = 'network';

export const networkMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'host bindings',
    up: `
      CREATE TABLE network_hosts (
        mac           TEXT PRIMARY KEY,             -- lower-case aa:bb:cc:dd:ee:ff
        dpid          TEXT    NOT NULL,             -- 16 hex digits
        port          INTEGER NOT NULL,
        addresses     TEXT    NOT NULL,             -- JSON array of canonical IPv4/IPv6 text
        last_seen_ms  INTEGER NOT NULL
      );
    `,
  },
];

/** A binding as stored: where a MAC lives and the addresses bound to it. */
export interface StoredHost {
  mac: string;
  dpid: bigint;
  port: number;
  addresses: string[];
  lastSeenMs: number;
}

export class HostStore {
  private readonly upsert;
  private readonly remove;
  private readonly all;
  private readonly touch;
  /** the last sighting written per MAC */
  private readonly written = new Map<string, number>();

  constructor(store: Store) {
    store.migrate(NETWORK_COMPONENT, networkMigrations);
    this.upsert = store.db.prepare(
      `INSERT INTO network_hosts (mac, dpid, port, addresses, last_seen_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (mac) DO UPDATE SET dpid = excluded.dpid, port = excluded.port, addresses = excluded.addresses, last_seen_ms = excluded.last_seen_ms`,
    );
    this.remove = store.db.prepare('DELETE FROM network_hosts WHERE mac = ?');
    this.touch = store.db.prepare('UPDATE network_hosts SET last_seen_ms = ? WHERE mac = ? AND last_seen_ms < ?');
    this.all = store.db.prepare<[], { mac: string; dpid: string; port: number; addresses: string; last_seen_ms: number }>(
      'SELECT mac, dpid, port, addresses, last_seen_ms FROM network_hosts ORDER BY mac',
    );
  }

  load(): StoredHost[] {
    const out: StoredHost[] = [];
    for (const row of this.all.all()) {
      let addresses: unknown;
      try {
        addresses = JSON.parse(row.addresses);
      } catch {
        continue;
      }
      if (!/^[0-9a-f]{16}$/.test(row.dpid) || !Array.isArray(addresses)) continue;
      out.push({ mac: row.mac, dpid: BigInt(`0x${row.dpid}`), port: row.port, addresses: addresses.filter((a): a is string => typeof a === 'string'), lastSeenMs: row.last_seen_ms });
    }
    return out;
  }

  save(host: Host): void {
    this.written.set(host.mac, Math.round(host.lastSeenMs));
    this.upsert.run(host.mac, formatDpid(host.attachment.dpid), host.attachment.port, JSON.stringify([...host.ipv4, ...host.ipv6]), Math.round(host.lastSeenMs));
  }

  delete(mac: string): void {
    this.written.delete(mac);
    this.remove.run(mac);
  }

  /** Writes the hosts' last sightings that moved on by a second or more since last written. */
  saveSightings(hosts: Iterable<Host>): void {
    for (const h of hosts) {
      const seen = Math.round(h.lastSeenMs);
      const before = this.written.get(h.mac);
      if (before !== undefined && seen - before < 1000) continue;
      this.written.set(h.mac, seen);
      this.touch.run(seen, h.mac, seen);
    }
  }

  /**
   * Keeps the table in step with the topology's bindings; returns the unsubscribe function.
   * Hosts dropped because their switch went away stay stored: the switch may come back.
   */
  follow(topology: Topology): () => void {
    return topology.on((e) => {
      switch (e.type) {
        case 'host-added':
        case 'host-moved':
        case 'host-address-added':
          this.save(e.host);
          break;
        case 'host-removed':
          if (e.reason !== 'switch-removed') this.delete(e.host.mac);
          break;
        default:
          break;
      }
    });
  }
}
