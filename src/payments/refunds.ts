// Refunds from the operator's account on the local ledger: an ordinary signed transfer
// (journal.ts: operator → payer, the operator's next nonce, memo "refund:<reservation>"),
// so each refund is an entry of the hash-chained journal that `payflow ledger verify`
// checks like any other. Synchronous, so that the caller can make it inside its own
// SQLite transaction (the ledger shares the store): the nonce is read and the entry
// appended under the same write lock, and a refused transfer (the operator's balance is
// too low) rolls back everything the caller wrote with it.
import { formatAmount } from './amount.js';
import { signTransfer } from './journal.js';
import type { SigningKey } from './keys.js';
import type { LocalLedger } from './local-ledger.js';

export class LocalRefunds {
  constructor(
    private readonly ledger: LocalLedger,
    private readonly operatorKey: SigningKey,
  ) {}

  /** Pays `amount` base units to `to`; returns the transfer's id. Throws LedgerError if the ledger refuses. */
  pay(to: string, amount: bigint, memo: string): string {
    return this.ledger.store.immediate(() => {
      const nonce = this.ledger.account(this.operatorKey.address).nonce + 1;
      return this.ledger.transfer(signTransfer(this.operatorKey, { to, amount: formatAmount(amount), nonce, memo })).txId;
    });
  }
}
