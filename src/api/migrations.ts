// The HTTP API's own tables, as numbered migrations of the 'api' component in the shared
// SQLite store: the nonces of signed requests (kept until their signature's time window
// has passed, so a replay within it fails, also after a restart), the answers kept for
// Idempotency-Key retries, operator tokens (only their SHA-256) and the audit log of
// what operators did. Read and written only through src/api/request-store.ts.
import type { Migration } from '../store/index.js';

export const API_COMPONENT = 'api';

export const apiMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'nonces, idempotency keys, tokens, audit log',
    up: `
      CREATE TABLE api_nonces (
        key_id          TEXT    NOT NULL,
        nonce           TEXT    NOT NULL,
        expires_at      INTEGER NOT NULL,            -- ms; purged after
        PRIMARY KEY (key_id, nonce)
      );
      CREATE INDEX api_nonces_expiry ON api_nonces (expires_at);
      CREATE TABLE api_idempotency (
        scope           TEXT    NOT NULL,            -- the signing account, or '' for unsigned requests
        key             TEXT    NOT NULL,            -- the client's Idempotency-Key
        fingerprint     TEXT    NOT NULL,            -- SHA-256 of method, path and body
        status          INTEGER,                     -- NULL while the first request runs
        location        TEXT,
        body            TEXT,
        created_at      INTEGER NOT NULL,
        PRIMARY KEY (scope, key)
      );
      CREATE INDEX api_idempotency_age ON api_idempotency (created_at);
      CREATE TABLE api_tokens (
        sha256          TEXT PRIMARY KEY,            -- of the token; the token itself is shown once and never stored
        name            TEXT    NOT NULL UNIQUE,
        scope           TEXT    NOT NULL CHECK (scope IN ('admin', 'read')),
        created_at      INTEGER NOT NULL
      );
      CREATE TABLE api_audit (
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        at              INTEGER NOT NULL,
        actor           TEXT    NOT NULL,            -- the token's name
        action          TEXT    NOT NULL,            -- e.g. "DELETE /v1/reservations/:id"
        target          TEXT,
        status          INTEGER NOT NULL,            -- the HTTP status answered
        outcome         TEXT    NOT NULL             -- "ok" or the refusal code
      );
    `,
  },
];
