// Loads the Ryu OpenFlow 1.3 conformance vectors vendored under test/fixtures/ryu-of13
// (packets/NAME.packet bytes, json/NAME.packet.json Ryu's decoding; Apache-2.0, see its
// NOTICE). A missing directory is an error, never a skip.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CONFORMANCE_DIR = resolve(REPO_ROOT, 'test', 'fixtures', 'ryu-of13');

export interface ConformanceVector {
  name: string;
  bytes: Uint8Array;
  /** Ryu's JSON, integers beyond 2^53 as bigint */
  json: unknown;
}

export function conformanceDirMissing(): string | undefined {
  if (!existsSync(resolve(CONFORMANCE_DIR, 'packets')) || !existsSync(resolve(CONFORMANCE_DIR, 'json'))) {
    return `conformance vectors not found at ${CONFORMANCE_DIR} (vendored test data of the repository ${REPO_ROOT})`;
  }
  return undefined;
}

export function loadVectors(): ConformanceVector[] {
  const missing = conformanceDirMissing();
  if (missing) throw new Error(missing);
  return readdirSync(resolve(CONFORMANCE_DIR, 'packets'))
    .filter((f) => f.endsWith('.packet'))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((f) => ({
      name: f.replace(/\.packet$/, ''),
      bytes: new Uint8Array(readFileSync(resolve(CONFORMANCE_DIR, 'packets', f))),
      json: parseJsonWithBigInts(readFileSync(resolve(CONFORMANCE_DIR, 'json', `${f}.json`), 'utf8')),
    }));
}

/** JSON.parse, except that integers too large for a double come back as exact bigints. */
export function parseJsonWithBigInts(text: string): unknown {
  const marked = text.replace(/([:[,]\s*)(\d{16,})(?=\s*[,\]}])/g, '$1"__bigint__:$2"');
  return JSON.parse(marked, (_key, value: unknown) =>
    typeof value === 'string' && value.startsWith("__bigint__:") ? BigInt(value.slice(11)) : value,
  );
}
