// The controller's own records checked against the ledger's journal: every redemption of
// a local-ledger payment names a transfer in the journal that paid the operator at least
// the redeemed amount with the redeemed quote as memo, and every reservation in force
// (installing or active) was bought by a payment that is redeemed for it. A row that
// breaks either rule was written or edited outside the controller (or the journal lost
// the payment). It runs at start, with the journal's own audit (src/payments/audit.ts),
// and in `payflow ledger verify`.
import type { Store } from '../store/index.js';

export type RecordsAudit = { ok: true; redemptions: number; reservations: number } | { ok: false; problem: string };

interface RedemptionRow {
  proof_id: string;
  reservation_id: string;
  amount: bigint;
  memo: string;
}

function tableExists(store: Store, name: string): boolean {
  return store.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

/** Checks the redemptions and the reservations in force against the local ledger's journal ('' operator: any recipient). */
export function auditRecords(store: Store, operatorAddress: string): RecordsAudit {
  if (!tableExists(store, 'payment_redemptions') || !tableExists(store, 'ledger_entries')) return { ok: true, redemptions: 0, reservations: 0 };
  const transfer = store.db.prepare<[string], { seq: number; kind: string; body: string }>('SELECT seq, kind, body FROM ledger_entries WHERE tx_id = ?');
  const redemptions = store.db.prepare<[], RedemptionRow>("SELECT proof_id, reservation_id, amount, memo FROM payment_redemptions WHERE ledger = 'local'").safeIntegers(true).all();
  for (const r of redemptions) {
    const entry = transfer.get(r.proof_id);
    if (!entry || entry.kind !== 'transfer') return { ok: false, problem: `redemption of payment ${r.proof_id} (for ${r.reservation_id}) has no transfer in the journal` };
    const t = JSON.parse(entry.body) as { to: string; amount: string; memo: string };
    if ((operatorAddress !== '' && t.to !== operatorAddress) || BigInt(t.amount) < r.amount || t.memo !== r.memo) {
      return { ok: false, problem: `redemption of payment ${r.proof_id} does not match journal entry ${entry.seq} (recipient, amount or memo differ)` };
    }
  }
  let reservations = 0;
  if (tableExists(store, 'controller_reservations')) {
    const unpaid = store.db
      .prepare<[], { id: string }>(
        `SELECT r.id FROM controller_reservations r
          WHERE r.state IN ('installing', 'active') AND NOT EXISTS (
            SELECT 1 FROM controller_payments p JOIN payment_redemptions d ON d.ledger = p.ledger AND d.proof_id = p.proof_id
             WHERE p.reservation_id = r.id AND p.kind = 'purchase' AND d.reservation_id = r.id)`,
      )
      .all();
    if (unpaid.length) return { ok: false, problem: `reservation ${unpaid[0]!.id} is in force but no redeemed payment bought it${unpaid.length > 1 ? ` (and ${unpaid.length - 1} more)` : ''}` };
    reservations = (store.db.prepare("SELECT COUNT(*) AS n FROM controller_reservations WHERE state IN ('installing', 'active')").get() as { n: number }).n;
  }
  return { ok: true, redemptions: redemptions.length, reservations };
}
