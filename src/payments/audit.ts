// The full re-check behind `payflow ledger verify`: walks the journal from the genesis
// entry, recomputes every entry's hash and link, re-verifies every signature and replays
// every entry through the same state machine the live ledger uses (journal.ts), then
// compares the replayed balances, nonces and channels with the stored state tables.
// Reports the first bad entry by sequence number, or the first state row that the
// chain does not explain. With the ledger's checkpoint file it also catches a journal
// whose last entries were cut off (checkpoint.ts).
import type { Store } from '../store/index.js';
import {
  applyEntry,
  canonicalBody,
  entryHash,
  GENESIS_PREV,
  normaliseBody,
  txIdOf,
  type Account,
  type ChannelRecord,
  type EntryKind,
  type GenesisBody,
  type LedgerState,
} from './journal.js';
import { LedgerError } from './ledger.js';
import { channelFromRow, type EntryRow } from './local-ledger.js';
import { isPublicKeyHex } from './keys.js';
import { readCheckpoint } from './checkpoint.js';

export interface AuditProblem {
  /** the first bad entry's sequence number, or null for a state-table problem */
  seq: number | null;
  reason: string;
}

export type AuditResult =
  | { ok: true; entries: number; head: string }
  | { ok: false; entries: number; problem: AuditProblem };

class MemoryState implements LedgerState {
  readonly accounts = new Map<string, Account>();
  readonly channels = new Map<string, ChannelRecord>();
  constructor(readonly authority: string) {}
  account(address: string): Account {
    return this.accounts.get(address) ?? { balance: 0n, nonce: 0 };
  }
  setAccount(address: string, account: Account): void {
    this.accounts.set(address, account);
  }
  channel(id: string): ChannelRecord | undefined {
    return this.channels.get(id);
  }
  setChannel(record: ChannelRecord): void {
    this.channels.set(record.id, record);
  }
}

const KINDS: readonly EntryKind[] = ['mint', 'transfer', 'channel-open', 'channel-settle', 'channel-reclaim', 'receipt'];

/**
 * Audits the journal (see the top of this module); with `checkpointFile`, also that the
 * journal still holds the entry its signed checkpoint names (checkpoint.ts), so that a
 * journal cut short fails.
 */
export function auditLedger(store: Store, options: { checkpointFile?: string } = {}): AuditResult {
  let genesis: GenesisBody | undefined;
  const rows = store.db.prepare<[], EntryRow>('SELECT * FROM ledger_entries ORDER BY seq').iterate();
  let state: MemoryState | null = null;
  let prevHash = GENESIS_PREV;
  let prevAt = 0;
  let expectedSeq = 1;
  let count = 0;
  const fail = (seq: number | null, reason: string): AuditResult => ({ ok: false, entries: count, problem: { seq, reason } });
  for (const row of rows) {
    count++;
    const seq = Number(row.seq);
    if (seq !== expectedSeq) return fail(expectedSeq, `entry ${expectedSeq} is missing (next stored entry is ${seq})`);
    if (row.prev_hash !== prevHash) return fail(seq, `entry ${seq} does not link to entry ${seq - 1} (prev_hash differs)`);
    if (entryHash(seq, row.kind, row.tx_id, Number(row.at), row.prev_hash, row.body) !== row.hash) {
      return fail(seq, `entry ${seq} has been altered (its hash does not match its content)`);
    }
    if (Number(row.at) < prevAt) return fail(seq, `entry ${seq} is dated before entry ${seq - 1}`);
    let body: unknown;
    try {
      body = JSON.parse(row.body);
    } catch {
      return fail(seq, `entry ${seq} is not valid JSON`);
    }
    if (seq === 1) {
      const g = body as GenesisBody;
      if (row.kind !== 'genesis' || !g || !isPublicKeyHex(g.authority) || typeof g.ledgerId !== 'string' || (g.testbed !== undefined && typeof g.testbed !== 'boolean')) {
        return fail(seq, 'entry 1 is not a valid genesis entry');
      }
      if (txIdOf('genesis', g) !== row.tx_id || canonicalBody(g) !== row.body) return fail(seq, 'entry 1: the transaction id does not match');
      state = new MemoryState(g.authority);
      genesis = g;
    } else {
      if (!state) return fail(1, 'no genesis entry');
      if (!KINDS.includes(row.kind as EntryKind)) return fail(seq, `entry ${seq} has an unknown kind '${row.kind}'`);
      const kind = row.kind as EntryKind;
      try {
        const normal = normaliseBody(kind, body);
        if (canonicalBody(normal) !== row.body) return fail(seq, `entry ${seq}: the body is not in canonical form`);
        if (txIdOf(kind, normal) !== row.tx_id) return fail(seq, `entry ${seq}: the transaction id does not match the body`);
        applyEntry(state, kind, normal, Number(row.at), row.tx_id);
      } catch (err) {
        const code = err instanceof LedgerError ? err.code : 'error';
        return fail(seq, `entry ${seq} (${kind}) is invalid: ${code}: ${(err as Error).message}`);
      }
    }
    prevHash = row.hash;
    prevAt = Number(row.at);
    expectedSeq++;
  }
  if (!state) return fail(1, 'the ledger has no genesis entry');
  // The derived tables must be exactly what the chain says.
  const stored = store.db
    .prepare<[], { address: string; balance: bigint; nonce: bigint }>('SELECT address, balance, nonce FROM ledger_accounts ORDER BY address')
    .safeIntegers(true)
    .all();
  const seen = new Set<string>();
  for (const r of stored) {
    seen.add(r.address);
    const want = state.account(r.address);
    if (want.balance !== r.balance || want.nonce !== Number(r.nonce)) {
      return fail(null, `account ${r.address}: stored balance ${r.balance} / nonce ${r.nonce}, the chain says ${want.balance} / ${want.nonce}`);
    }
  }
  for (const [address, a] of state.accounts) {
    if (!seen.has(address) && (a.balance !== 0n || a.nonce !== 0)) return fail(null, `account ${address} is missing from the state table`);
  }
  const channelRows = store.db.prepare('SELECT * FROM ledger_channels').safeIntegers(true).all() as Parameters<typeof channelFromRow>[0][];
  if (channelRows.length !== state.channels.size) return fail(null, 'the channel table does not match the chain');
  for (const r of channelRows) {
    const c = channelFromRow(r);
    const want = state.channels.get(c.id);
    if (!want || JSON.stringify(stringify(want)) !== JSON.stringify(stringify(c))) return fail(null, `channel ${c.id} does not match the chain`);
  }
  if (options.checkpointFile !== undefined && genesis) {
    const read = readCheckpoint(options.checkpointFile, genesis.authority, genesis.ledgerId);
    if (!read.ok) return fail(null, read.reason);
    const c = read.checkpoint;
    if (c.seq > count) return fail(count + 1, `the journal ends at entry ${count}, but its checkpoint of ${new Date(c.at).toISOString()} names entry ${c.seq}: entries ${count + 1}…${c.seq} were removed`);
    const at = store.db.prepare<[number], { hash: string }>('SELECT hash FROM ledger_entries WHERE seq = ?').get(c.seq);
    if (at?.hash !== c.head) return fail(c.seq, `entry ${c.seq} is not the one the checkpoint names (hash ${c.head.slice(0, 16)}…): the journal was rewritten from there`);
  }
  return { ok: true, entries: count, head: prevHash };
}

function stringify(c: ChannelRecord): Record<string, string | number | boolean> {
  return { ...c, deposit: c.deposit.toString(), settled: c.settled.toString() };
}
