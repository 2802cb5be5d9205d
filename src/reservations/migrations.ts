// The controller's tables, as numbered migrations of the 'controller' component in the
// shared SQLite store (WAL): quotes, reservations, the payments that bought or extended
// them (revenue per class) — written only through src/reservations/store.ts; the pricing
// agent reads revenue — and the price history (the pricing agent's).
// Channel vouchers (extensions paid through a micropayment channel) are kept by the
// payments component's ChannelBook (payment_channel_vouchers); controller_channels binds
// each channel to the reservation it extends.
// Each reservation belongs to the account that paid for it (owner); a cancellation's
// refund is one row of controller_refunds, whose primary key lets a reservation be
// refunded once only.
// Redeemed payment proofs live in the payments component's payment_redemptions table,
// whose primary key makes one proof buy one reservation (src/payments/redemption.ts).
import type { Migration } from '../store/index.js';

export const CONTROLLER_COMPONENT = 'controller';

export const controllerMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'quotes, reservations, payments, prices',
    up: `
      CREATE TABLE controller_quotes (
        id              TEXT PRIMARY KEY,
        signed          TEXT    NOT NULL,            -- the SignedQuote as JSON
        kind            TEXT    NOT NULL CHECK (kind IN ('new', 'extension')),
        reservation_id  TEXT,                        -- the reservation an extension quote extends
        class_id        TEXT    NOT NULL,
        amount          INTEGER NOT NULL,            -- base units
        expires_at      INTEGER NOT NULL,            -- ms
        used_by         TEXT                         -- reservation id once a payment used it
      );
      CREATE TABLE controller_reservations (
        id              TEXT PRIMARY KEY,
        quote_id        TEXT    NOT NULL,
        state           TEXT    NOT NULL CHECK (state IN ('installing', 'active', 'expired', 'cancelled', 'failed')),
        class_id        TEXT    NOT NULL,
        rate_bps        INTEGER NOT NULL,
        burst_bits      INTEGER NOT NULL,
        dscp            INTEGER NOT NULL,
        match           TEXT    NOT NULL,            -- FlowMatch as JSON
        path            TEXT    NOT NULL,            -- Path as JSON (dpids as hex)
        created_at      INTEGER NOT NULL,
        starts_at       INTEGER NOT NULL,
        expires_at      INTEGER NOT NULL,
        ended_at        INTEGER,
        paid            INTEGER NOT NULL,            -- base units, all payments
        receipt         TEXT,                        -- SignedReceipt as JSON
        reason          TEXT                         -- why it failed / ended
      );
      CREATE INDEX controller_reservations_state ON controller_reservations (state, expires_at);
      CREATE TABLE controller_payments (
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        reservation_id  TEXT    NOT NULL REFERENCES controller_reservations (id),
        quote_id        TEXT    NOT NULL,
        ledger          TEXT    NOT NULL,
        proof_id        TEXT    NOT NULL,            -- transfer id; for a voucher "channel:sequence"
        class_id        TEXT    NOT NULL,
        kind            TEXT    NOT NULL CHECK (kind IN ('purchase', 'extension', 'voucher')),
        amount          INTEGER NOT NULL,
        at              INTEGER NOT NULL,
        UNIQUE (ledger, proof_id)
      );
      -- A micropayment channel extends one reservation (bound by its first voucher).
      CREATE TABLE controller_channels (
        channel         TEXT PRIMARY KEY,
        reservation_id  TEXT    NOT NULL REFERENCES controller_reservations (id),
        bound_at        INTEGER NOT NULL
      );
      CREATE TABLE controller_prices (
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        at              INTEGER NOT NULL,
        class_id        TEXT    NOT NULL,
        price           REAL    NOT NULL,
        demand_bps      REAL    NOT NULL
      );
      CREATE INDEX controller_prices_class ON controller_prices (class_id, at);
    `,
  },
  {
    version: 2,
    name: 'reservation owners, refunds',
    up: `
      ALTER TABLE controller_reservations ADD COLUMN owner TEXT;   -- the payer's address; NULL when the ledger did not name one
      CREATE INDEX controller_reservations_owner ON controller_reservations (owner, state);
      CREATE TABLE controller_refunds (
        reservation_id  TEXT PRIMARY KEY REFERENCES controller_reservations (id),
        payer           TEXT    NOT NULL,
        unused_ms       INTEGER NOT NULL,            -- the time given back
        gross           INTEGER NOT NULL,            -- base units: the unused time's pro-rata share
        fee             INTEGER NOT NULL,            -- base units kept by the operator
        amount          INTEGER NOT NULL,            -- base units sent back (gross - fee)
        transfer_id     TEXT,                        -- the ledger transfer; NULL when amount is 0
        at              INTEGER NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'credit quotes for stranded payments',
    up: `
      -- A quote issued to credit a stranded payment: only that payment (credit_proof) pays
      -- it, and that payment's memo names the quote it was first sent for (credit_memo).
      ALTER TABLE controller_quotes ADD COLUMN credit_proof TEXT;
      ALTER TABLE controller_quotes ADD COLUMN credit_memo  TEXT;
    `,
  },
  {
    version: 4,
    name: 'class changes at run time',
    up: `
      -- The operator's run-time changes of a class (admin API), applied over the config's
      -- values at every start, so that they survive a restart.
      CREATE TABLE controller_class_changes (
        class_id    TEXT PRIMARY KEY,
        base_price  REAL    NOT NULL,
        max_price   REAL    NOT NULL,
        target      REAL    NOT NULL,
        share       REAL    NOT NULL,
        changed_by  TEXT    NOT NULL,
        at          INTEGER NOT NULL
      );
    `,
  },
];
