// SQLite persistence shared by every area of PayFlow (payments now; reservations, quotes
// and prices from the controller later): one database file in WAL mode with a busy
// timeout, numbered migrations per component, and transactions.
//
// Why WAL + busy timeout: the controller, `payflow ledger serve` and CLI commands may
// open the same file at once. WAL lets readers run beside one writer; the busy timeout
// makes a second writer wait for the lock instead of failing with SQLITE_BUSY.
// Writers that read-then-write use BEGIN IMMEDIATE (see `Store.immediate`) so that the
// write lock is taken before the read, which is what makes check-then-insert races safe
// across processes.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { applyMigrations, type Migration, type MigrationReport } from './migrations.js';

export type SqliteDatabase = Database.Database;

export interface StoreOptions {
  /** milliseconds a writer waits for the lock held by another connection; default 5000 */
  busyTimeoutMs?: number;
  /** open an existing file only, never create one */
  mustExist?: boolean;
  /** read-only connection (audits) */
  readonly?: boolean;
}

export class Store {
  readonly db: SqliteDatabase;
  readonly path: string;

  private constructor(db: SqliteDatabase, path: string) {
    this.db = db;
    this.path = path;
  }

  /** Opens (creating if needed) a database file in WAL mode with a busy timeout. */
  static open(path: string, options: StoreOptions = {}): Store {
    if (path !== ':memory:' && !options.mustExist && !options.readonly) {
      mkdirSync(dirname(path), { recursive: true });
    }
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    const db = new Database(path, {
      fileMustExist: options.mustExist ?? options.readonly ?? false,
      readonly: options.readonly ?? false,
      timeout: busyTimeoutMs,
    });
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      // NORMAL is durable across application crashes in WAL mode; FULL also survives
      // power loss at the cost of an fsync per commit. Money: take FULL.
      db.pragma('synchronous = FULL');
    }
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    db.pragma('foreign_keys = ON');
    return new Store(db, path);
  }

  /** The journal mode the connection actually runs in ('wal' for files). */
  journalMode(): string {
    return String(this.db.pragma('journal_mode', { simple: true }));
  }

  /**
   * Applies the migrations of one component (e.g. 'payments', 'controller') that are not
   * yet recorded in the `schema_migrations` table, each in its own IMMEDIATE transaction.
   */
  migrate(component: string, migrations: readonly Migration[]): MigrationReport {
    return applyMigrations(this.db, component, migrations);
  }

  /** Runs fn in a deferred transaction (BEGIN); commits on return, rolls back on throw. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /**
   * Runs fn in a BEGIN IMMEDIATE transaction: the write lock is taken first, so a
   * read-check-write sequence cannot interleave with another connection's.
   */
  immediate<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

export type { Migration, MigrationReport };
