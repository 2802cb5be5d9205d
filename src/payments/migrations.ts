// The payments area's own migration list (component 'payments' in schema_migrations).
// The controller keeps its own list; both live in the same database file.
import type { Migration } from '../store/index.js';

export const PAYMENTS_COMPONENT = 'payments';

export const paymentsMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'local ledger, redemptions, receipts, channels',
    up: `
      CREATE TABLE ledger_meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      -- The hash-chained journal: the only source of truth. Every other ledger_* table
      -- is state derived from it, which 'payflow ledger verify' recomputes and compares.
      CREATE TABLE ledger_entries (
        seq       INTEGER PRIMARY KEY,
        kind      TEXT    NOT NULL,
        tx_id     TEXT    NOT NULL UNIQUE,
        body      TEXT    NOT NULL,
        at        INTEGER NOT NULL,
        prev_hash TEXT    NOT NULL,
        hash      TEXT    NOT NULL UNIQUE
      );
      CREATE TABLE ledger_accounts (
        address TEXT PRIMARY KEY,
        balance INTEGER NOT NULL CHECK (balance >= 0),
        nonce   INTEGER NOT NULL CHECK (nonce >= 0)
      );
      CREATE TABLE ledger_channels (
        id               TEXT PRIMARY KEY,
        payer            TEXT    NOT NULL,
        payee            TEXT    NOT NULL,
        channel_key      TEXT    NOT NULL,
        deposit          INTEGER NOT NULL,
        settled          INTEGER NOT NULL,
        settled_sequence INTEGER NOT NULL,
        timeout_at       INTEGER NOT NULL,
        closed           INTEGER NOT NULL
      );
      -- One payment buys one reservation: the primary key is the arbiter when two
      -- requests (two connections, two processes) redeem the same proof.
      CREATE TABLE payment_redemptions (
        ledger         TEXT    NOT NULL,
        proof_id       TEXT    NOT NULL,
        reservation_id TEXT    NOT NULL,
        amount         INTEGER NOT NULL,
        memo           TEXT    NOT NULL,
        redeemed_at    INTEGER NOT NULL,
        PRIMARY KEY (ledger, proof_id)
      );
      CREATE TABLE payment_receipts (
        id             TEXT PRIMARY KEY,
        ledger         TEXT    NOT NULL,
        quote_id       TEXT    NOT NULL,
        reservation_id TEXT    NOT NULL,
        proof_id       TEXT    NOT NULL,
        body           TEXT    NOT NULL,
        recorded_at    INTEGER NOT NULL
      );
      -- The operator's view of each channel it is paid through: the best voucher so far.
      CREATE TABLE payment_channel_vouchers (
        channel     TEXT PRIMARY KEY,
        ledger      TEXT    NOT NULL,
        channel_key TEXT    NOT NULL,
        deposit     INTEGER NOT NULL,
        timeout_at  INTEGER NOT NULL,
        cumulative  INTEGER NOT NULL,
        sequence    INTEGER NOT NULL,
        signature   TEXT    NOT NULL,
        updated_at  INTEGER NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'channel settlement, stranded payments',
    up: `
      -- What the operator has settled of each channel on the ledger (the settle entry is
      -- appended in the same transaction that writes these, so they never disagree).
      ALTER TABLE payment_channel_vouchers ADD COLUMN settled_sequence   INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE payment_channel_vouchers ADD COLUMN settled_cumulative INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE payment_channel_vouchers ADD COLUMN settled_at         INTEGER;
      CREATE INDEX payment_channel_vouchers_unsettled ON payment_channel_vouchers (timeout_at) WHERE sequence > settled_sequence;
      -- A payment that could not buy what it was sent for, once claimed by its payer:
      -- refunded (refund_transfer) or turned into a credit for a new quote (credit_quote).
      -- The primary key, with the redemption written in the same transaction, makes a
      -- payment refunded or credited once only.
      CREATE TABLE payment_stranded (
        ledger          TEXT    NOT NULL,
        proof_id        TEXT    NOT NULL,
        payer           TEXT    NOT NULL,
        quote_id        TEXT    NOT NULL,            -- the quote the payment was sent for (its memo)
        amount          INTEGER NOT NULL,            -- base units paid
        reason          TEXT    NOT NULL,            -- why it could not buy the quote
        policy          TEXT    NOT NULL CHECK (policy IN ('credit', 'refund')),
        refund_transfer TEXT,                        -- policy refund: the ledger transfer that paid it back
        credit_quote    TEXT,                        -- policy credit: the new quote it pays for
        credit_until    INTEGER,                     -- policy credit: the credit lapses then
        at              INTEGER NOT NULL,
        PRIMARY KEY (ledger, proof_id)
      );
    `,
  },
];
