// Numbered schema migrations, recorded per component in one `schema_migrations` table,
// so that each area (payments, controller, ...) keeps its own list in its own module and
// they share one database file. A migration runs once; its number is its identity. A
// list must be numbered 1, 2, 3, ... with no gaps, and a recorded migration whose name
// changed is refused (it means the code and the file disagree about the schema).
import type Database from 'better-sqlite3';

export interface Migration {
  /** 1, 2, 3, ... within its component */
  version: number;
  /** short description; stored, and compared on later runs */
  name: string;
  /** SQL script, or a function for migrations that need code */
  up: string | ((db: Database.Database) => void);
}

export interface MigrationReport {
  component: string;
  applied: number[];
  current: number;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

const createTable = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    component  TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    applied_at TEXT    NOT NULL,
    PRIMARY KEY (component, version)
  )`;

export function applyMigrations(
  db: Database.Database,
  component: string,
  migrations: readonly Migration[],
): MigrationReport {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new MigrationError(`${component}: migration #${i + 1} is numbered ${m.version}; expected ${i + 1}`);
    }
  });
  db.exec(createTable);
  const applied: number[] = [];
  const recorded = db.prepare<[string, number], { name: string }>(
    'SELECT name FROM schema_migrations WHERE component = ? AND version = ?',
  );
  const record = db.prepare(
    'INSERT INTO schema_migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)',
  );
  for (const m of migrations) {
    // Each migration in its own IMMEDIATE transaction, re-checking inside it: two
    // processes opening a fresh file at once apply each migration exactly once.
    db.transaction(() => {
      const row = recorded.get(component, m.version);
      if (row) {
        if (row.name !== m.name) {
          throw new MigrationError(
            `${component} migration ${m.version} is recorded as '${row.name}' but the code calls it '${m.name}'`,
          );
        }
        return;
      }
      if (typeof m.up === 'string') db.exec(m.up);
      else m.up(db);
      record.run(component, m.version, m.name, new Date().toISOString());
      applied.push(m.version);
    }).immediate();
  }
  const newer = db
    .prepare<[string], { v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations WHERE component = ?')
    .get(component);
  const current = newer?.v ?? 0;
  if (current > migrations.length) {
    throw new MigrationError(
      `${component}: the database is at migration ${current}, newer than this code (${migrations.length})`,
    );
  }
  return { component, applied, current };
}
