// The architecture as a rule: every folder of src/ has a layer, and a module imports only
// from lower layers (or its own folder). The library never imports benchmarks or tests;
// `payflow bench` reaches bench/ through one dynamic import in src/cli/commands/bench.ts.
// docs/architecture.md draws the same picture.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Lower numbers sit lower; a folder may import only folders with a smaller number. */
export const LAYERS: Record<string, number> = {
  util: 0,
  config: 1,
  store: 1,
  openflow: 2,
  dataplane: 2,
  qos: 2,
  payments: 2,
  pricing: 3,
  network: 4,
  switch: 4,
  reservations: 5,
  api: 6,
  app: 7,
  cli: 8,
  'index.ts': 9,
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

interface Edge { from: string; to: string; dynamic: boolean }

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of sources(join(ROOT, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
      out.push({
        from: relative(ROOT, file),
        to: relative(ROOT, resolve(dirname(file), m[1]!)),
        dynamic: m[0].startsWith('import'),
      });
    }
  }
  return out;
}

const area = (path: string): string => path.split('/')[1]!;

describe('architecture', () => {
  it('gives every folder of src/ a layer', () => {
    const folders = readdirSync(join(ROOT, 'src'));
    expect(folders.filter((f) => LAYERS[f] === undefined)).toEqual([]);
  });

  it('has no import that points up or sideways between folders', () => {
    const wrong = edges()
      .filter((e) => e.to.startsWith('src/'))
      .filter((e) => area(e.from) !== area(e.to) && !(LAYERS[area(e.from)]! > LAYERS[area(e.to)]!))
      .map((e) => `${e.from} → ${e.to}`);
    expect(wrong).toEqual([]);
  });

  it('keeps benchmarks and tests out of the library', () => {
    const outside = edges()
      .filter((e) => !e.to.startsWith('src/'))
      .filter((e) => !(e.from === 'src/cli/commands/bench.ts' && e.dynamic && e.to.startsWith('bench/')))
      .map((e) => `${e.from} → ${e.to}`);
    expect(outside).toEqual([]);
  });
});
