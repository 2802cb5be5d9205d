// The store's public surface: open a database file, migrate a component, transactions.
export { Store, type StoreOptions, type SqliteDatabase } from './database.js';
export { applyMigrations, MigrationError, type Migration, type MigrationReport } from './migrations.js';
