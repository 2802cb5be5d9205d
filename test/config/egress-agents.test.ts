// egress.agents: where the egress agent of a switch on another host listens.
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/index.js';

describe('egress.agents', () => {
  it('reads dpid and address, with the dpid normalised', () => {
    const r = validateConfig({ egress: { agents: [{ dpid: '1', address: '10.0.0.5:6660' }] } });
    expect(r.ok && r.config.egress.agents).toEqual([{ dpid: '0000000000000001', address: { host: '10.0.0.5', port: 6660 } }]);
  });

  it('refuses missing fields, bad addresses and a switch listed twice, with their paths', () => {
    const r = validateConfig({ egress: { agents: [{ dpid: '1' }, { dpid: 'zz', address: 'x' }, { dpid: '2', address: 'h:1' }, { dpid: '0x2', address: 'h:2' }, 'no'] } });
    expect(r.ok).toBe(false);
    const paths = r.ok ? [] : r.issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['egress.agents[0].address', 'egress.agents[1].dpid', 'egress.agents[1].address', 'egress.agents[3].dpid', 'egress.agents[4]']));
  });
});
