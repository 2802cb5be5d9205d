// The library as another controller imports it: `import ... from 'payflow'` (the package's
// own name, resolved through package.json "exports" to the built dist/). This is the
// README's "Library use" example, run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine, decodeMessage, encodeMessage, openflowCodec, LocalLedger, SigningKey, Store, loadConfig } from 'payflow';

describe("import from 'payflow'", () => {
  it('runs a frame through the wasm engine', () => {
    const engine = new Engine();
    const frame = new Uint8Array(60);
    frame.set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00], 0); // Ethernet II, IPv4
    frame.set([0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14); // IPv4, UDP
    frame.set([0x30, 0x39, 0x00, 0x35, 0, 26, 0, 0], 34); // UDP 12345 → 53
    const result = engine.process([frame], 1_000);
    expect(result.verdict(0).reason).toBe(0);
    expect(engine.flows()).toHaveLength(1);
    expect(engine.flows()[0]).toMatchObject({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, sport: 12345, dport: 53 });
  });

  it('encodes and decodes an OpenFlow flow-mod with the codec builders', () => {
    const { flowMod, applyActions, output } = openflowCodec;
    const msg = flowMod({
      priority: 100,
      match: [
        { field: 'eth_type', value: 0x86dd },
        { field: 'ipv6_flabel', value: 0x12345 },
      ],
      instructions: [applyActions(output(2))],
    });
    const bytes = encodeMessage(msg);
    const back = decodeMessage(bytes);
    expect(back.ok).toBe(true);
    if (back.ok) expect(back.message).toMatchObject({ type: 'flow_mod', priority: 100 });
  });

  it('opens a local ledger in a SQLite store and loads the default config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'payflow-lib-'));
    try {
      const store = Store.open(join(dir, 'state.db'));
      const authority = SigningKey.generate();
      const ledger = LocalLedger.open(store, { authorityKey: authority, testbed: true });
      expect(ledger.kind).toBe('local');
      expect(await ledger.balance(ledger.operatorAddress)).toBe(0n);
      store.close();
      const config = loadConfig();
      expect(config.classes.map((c) => c.id)).toEqual(['gold', 'silver', 'best-effort']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
