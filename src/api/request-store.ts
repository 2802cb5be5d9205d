// Every SQL statement of the HTTP API's own tables (src/api/migrations.ts), prepared once:
// nonces of signed requests, Idempotency-Key answers, operator tokens and the audit log.
import type Database from 'better-sqlite3';
import type { Store } from '../store/index.js';
import type { TokenScope } from '../config/types.js';
import { API_COMPONENT, apiMigrations } from './migrations.js';

/** An Idempotency-Key's record: pending (status null) while the first request runs. */
export interface IdempotencyRecord {
  fingerprint: string;
  status: number | null;
  location: string | null;
  body: string | null;
  createdAt: number;
}

export interface AuditEntry {
  at: number;
  actor: string;
  action: string;
  target: string | null;
  status: number;
  outcome: string;
}

function prepareAll(db: Database.Database) {
  return {
    insertNonce: db.prepare<[string, string, number]>('INSERT INTO api_nonces (key_id, nonce, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
    purgeNonces: db.prepare<[number]>('DELETE FROM api_nonces WHERE expires_at < ?'),
    idempotency: db.prepare<[string, string], { fingerprint: string; status: number | null; location: string | null; body: string | null; created_at: number }>(
      'SELECT fingerprint, status, location, body, created_at FROM api_idempotency WHERE scope = ? AND key = ?',
    ),
    beginIdempotent: db.prepare<[string, string, string, number]>(
      'INSERT INTO api_idempotency (scope, key, fingerprint, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    retakeIdempotent: db.prepare<[number, string, string, number]>('UPDATE api_idempotency SET created_at = ? WHERE scope = ? AND key = ? AND status IS NULL AND created_at < ?'),
    finishIdempotent: db.prepare<[number, string | null, string, string, string]>('UPDATE api_idempotency SET status = ?, location = ?, body = ? WHERE scope = ? AND key = ?'),
    dropIdempotent: db.prepare<[string, string]>('DELETE FROM api_idempotency WHERE scope = ? AND key = ? AND status IS NULL'),
    purgeIdempotency: db.prepare<[number]>('DELETE FROM api_idempotency WHERE created_at < ?'),
    tokens: db.prepare<[], { sha256: string; name: string; scope: TokenScope }>('SELECT sha256, name, scope FROM api_tokens ORDER BY name'),
    insertToken: db.prepare<[string, string, TokenScope, number]>('INSERT INTO api_tokens (sha256, name, scope, created_at) VALUES (?, ?, ?, ?)'),
    audit: db.prepare<[number, string, string, string | null, number, string]>('INSERT INTO api_audit (at, actor, action, target, status, outcome) VALUES (?, ?, ?, ?, ?, ?)'),
    auditLog: db.prepare<[number], AuditEntry>('SELECT at, actor, action, target, status, outcome FROM api_audit ORDER BY seq DESC LIMIT ?'),
  };
}

export class RequestStore {
  private readonly sql: ReturnType<typeof prepareAll>;

  constructor(store: Store) {
    store.migrate(API_COMPONENT, apiMigrations);
    this.sql = prepareAll(store.db);
  }

  /** Records a nonce until `expiresAt`; false when this key used it before. */
  useNonce(keyId: string, nonce: string, expiresAt: number): boolean {
    return this.sql.insertNonce.run(keyId, nonce, expiresAt).changes === 1;
  }

  idempotency(scope: string, key: string): IdempotencyRecord | undefined {
    const r = this.sql.idempotency.get(scope, key);
    return r ? { fingerprint: r.fingerprint, status: r.status, location: r.location, body: r.body, createdAt: Number(r.created_at) } : undefined;
  }

  /** Claims a key for a first request; false when another request holds or finished it. */
  beginIdempotent(scope: string, key: string, fingerprint: string, now: number): boolean {
    return this.sql.beginIdempotent.run(scope, key, fingerprint, now).changes === 1;
  }

  /** Takes over a pending key whose first request started before `staleBefore` (its process died). */
  retakeIdempotent(scope: string, key: string, now: number, staleBefore: number): boolean {
    return this.sql.retakeIdempotent.run(now, scope, key, staleBefore).changes === 1;
  }

  finishIdempotent(scope: string, key: string, status: number, location: string | null, body: string): void {
    this.sql.finishIdempotent.run(status, location, body, scope, key);
  }

  /** Forgets a pending key (the first request failed in a way a retry may fix). */
  dropIdempotent(scope: string, key: string): void {
    this.sql.dropIdempotent.run(scope, key);
  }

  /** Deletes nonces whose window has passed and idempotency answers older than the retention. */
  purge(now: number, idempotencyBefore: number): { nonces: number; idempotency: number } {
    return { nonces: this.sql.purgeNonces.run(now).changes, idempotency: this.sql.purgeIdempotency.run(idempotencyBefore).changes };
  }

  tokens(): { sha256: string; name: string; scope: TokenScope }[] {
    return this.sql.tokens.all();
  }

  addToken(sha256: string, name: string, scope: TokenScope, now: number): void {
    this.sql.insertToken.run(sha256, name, scope, now);
  }

  audit(e: AuditEntry): void {
    this.sql.audit.run(e.at, e.actor, e.action, e.target, e.status, e.outcome);
  }

  auditLog(limit = 100): AuditEntry[] {
    return this.sql.auditLog.all(limit);
  }
}
