// IPv6 flow labels as the reservation's key over HTTP: a label the client asks for is
// returned in the reservation; "auto" lets the controller pick one the source does not
// hold; a label another active reservation of the same source holds is refused with 409
// flow_label_in_use, at the quote and again at payment; bad labels are 400 bad_match.
import { describe, expect, it } from 'vitest';
import { harnessPerTest, refusal } from '../reservations/helpers.js';

const V6 = { src: 'fd00::1', dst: 'fd00::2', rate: '1mbit', duration: '60s' } as const;

describe('flow labels over HTTP', () => {
  const ctx = harnessPerTest();

  it('keeps a requested label and returns it in the reservation', async () => {
    const { h } = ctx;
    const q = await h.api.quote({ ...V6, proto: 17, flowLabel: 0x12345 });
    const r = await h.api.reserve(q.quote.id, await h.pay(q.quote));
    expect(r.match).toEqual({ src: 'fd00::1', dst: 'fd00::2', proto: 17, flowLabel: 0x12345 });
    expect(h.network.enforcer.installed.get(r.id)!.match.flowLabel).toBe(0x12345);
  });

  it('picks a label with "auto": 20 bits, not 0, different from the labels the source holds', async () => {
    const { h } = ctx;
    const labels: number[] = [];
    for (let i = 0; i < 3; i++) {
      const q = await h.api.quote({ ...V6, flowLabel: 'auto' });
      const label = (q.quote.terms as { match: { flowLabel: number } }).match.flowLabel;
      expect(Number.isInteger(label) && label > 0 && label <= 0xfffff).toBe(true);
      const r = await h.api.reserve(q.quote.id, await h.pay(q.quote));
      expect(r.match.flowLabel).toBe(label);
      labels.push(label);
    }
    expect(new Set(labels).size).toBe(3);
  });

  it('refuses a label held by an active reservation of the same source (409 flow_label_in_use), at the quote and at payment', async () => {
    const { h } = ctx;
    const early = await h.api.quote({ ...V6, flowLabel: 77 });
    const q = await h.api.quote({ ...V6, flowLabel: 77 });
    const first = await h.api.reserve(q.quote.id, await h.pay(q.quote));
    const atQuote = await refusal(h.api.quote({ ...V6, dst: 'fd00::2', proto: 6, flowLabel: 77 }));
    expect(atQuote.status).toBe(409);
    expect(atQuote.code).toBe('flow_label_in_use');
    expect(atQuote.message).toContain(first.id);
    const atPayment = await refusal(h.api.reserve(early.quote.id, await h.pay(early.quote)));
    expect(atPayment.status).toBe(409);
    expect(atPayment.code).toBe('flow_label_in_use');
    // another source may use the same label
    const other = await h.api.quote({ src: 'fd00::2', dst: 'fd00::1', rate: '1mbit', duration: '60s', flowLabel: 77 });
    expect((other.quote.terms as { match: { flowLabel: number } }).match.flowLabel).toBe(77);
  });

  it('refuses labels outside 20 bits, "auto" on IPv4 and anything else with 400 bad_match or bad input', async () => {
    const { h } = ctx;
    for (const flowLabel of [0x100000, -1]) {
      const e = await refusal(h.api.quote({ ...V6, flowLabel }));
      expect([e.status, e.code]).toEqual([400, 'bad_match']);
      expect(e.message).toMatch(/20-bit/);
    }
    const v4 = await refusal(h.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '60s', flowLabel: 'auto' }));
    expect([v4.status, v4.code]).toEqual([400, 'bad_match']);
    const junk = await refusal(h.api.quote({ ...V6, flowLabel: 'some' as unknown as 'auto' }));
    expect(junk.status).toBe(400);
  });
});
