// The shared SQLite store: WAL mode, busy timeout, per-component numbered migrations,
// transactions that roll back — on real database files in a temporary directory.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MigrationError, Store, type Migration } from '../../src/store/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'payflow-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const widgets: Migration[] = [
  { version: 1, name: 'widgets', up: 'CREATE TABLE widgets (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)' },
  { version: 2, name: 'widget colour', up: (db) => db.exec("ALTER TABLE widgets ADD COLUMN colour TEXT NOT NULL DEFAULT 'red'") },
];

describe('Store', () => {
  it('opens a file in WAL mode with the busy timeout set', () => {
    const store = Store.open(join(dir, 'sub', 'a.db'), { busyTimeoutMs: 1234 });
    expect(store.journalMode()).toBe('wal');
    expect(store.db.pragma('busy_timeout', { simple: true })).toBe(1234);
    store.close();
  });

  it('applies each migration once, per component, and survives a reopen', () => {
    const path = join(dir, 'm.db');
    let store = Store.open(path);
    expect(store.migrate('widgets', widgets)).toEqual({ component: 'widgets', applied: [1, 2], current: 2 });
    expect(store.migrate('gadgets', [{ version: 1, name: 'gadgets', up: 'CREATE TABLE gadgets (id INTEGER)' }]).applied).toEqual([1]);
    store.db.prepare('INSERT INTO widgets (name) VALUES (?)').run('w1');
    store.close();
    store = Store.open(path);
    expect(store.migrate('widgets', widgets)).toEqual({ component: 'widgets', applied: [], current: 2 });
    expect(store.db.prepare('SELECT colour FROM widgets').get()).toEqual({ colour: 'red' });
    store.close();
  });

  it('refuses gaps, renamed migrations and a database newer than the code', () => {
    const store = Store.open(join(dir, 'bad.db'));
    expect(() => store.migrate('x', [{ version: 2, name: 'two', up: '' }])).toThrow(MigrationError);
    store.migrate('widgets', widgets);
    expect(() => store.migrate('widgets', [{ ...widgets[0]!, name: 'renamed' }, widgets[1]!])).toThrow(/recorded as 'widgets'/);
    expect(() => store.migrate('widgets', [widgets[0]!])).toThrow(/newer than this code/);
    store.close();
  });

  it('rolls a failed migration back entirely', () => {
    const store = Store.open(join(dir, 'rb.db'));
    const broken: Migration[] = [{ version: 1, name: 'half', up: 'CREATE TABLE t1 (a INTEGER); CREATE TABLE t1 (a INTEGER);' }];
    expect(() => store.migrate('half', broken)).toThrow();
    expect(store.db.prepare("SELECT name FROM sqlite_master WHERE name = 't1'").get()).toBeUndefined();
    expect(store.db.prepare("SELECT * FROM schema_migrations WHERE component = 'half'").all()).toEqual([]);
    store.close();
  });

  it('transactions commit on return and roll back on throw', () => {
    const store = Store.open(join(dir, 'tx.db'));
    store.migrate('widgets', widgets);
    store.immediate(() => store.db.prepare('INSERT INTO widgets (name) VALUES (?)').run('kept'));
    expect(() =>
      store.transaction(() => {
        store.db.prepare('INSERT INTO widgets (name) VALUES (?)').run('lost');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(store.db.prepare('SELECT name FROM widgets ORDER BY name').all()).toEqual([{ name: 'kept' }]);
    store.close();
  });

  it('lets a second connection on the same file see committed writes and wait for the lock', () => {
    const path = join(dir, 'two.db');
    const a = Store.open(path);
    const b = Store.open(path, { busyTimeoutMs: 50 });
    a.migrate('widgets', widgets);
    b.migrate('widgets', widgets);
    a.db.exec('BEGIN IMMEDIATE');
    a.db.prepare('INSERT INTO widgets (name) VALUES (?)').run('from-a');
    // b cannot take the write lock while a holds it; after the busy timeout it fails.
    expect(() => b.immediate(() => b.db.prepare('INSERT INTO widgets (name) VALUES (?)').run('from-b'))).toThrow(/locked|busy/i);
    a.db.exec('COMMIT');
    b.immediate(() => b.db.prepare('INSERT INTO widgets (name) VALUES (?)').run('from-b'));
    expect(a.db.prepare('SELECT COUNT(*) AS n FROM widgets').get()).toEqual({ n: 2 });
    a.close();
    b.close();
  });
});
