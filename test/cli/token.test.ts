// `payflow token create`: the token is printed once, only its SHA-256 is stored, and the
// controller on that data directory accepts it (run `npm run build` first: it runs the
// built CLI).
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import { CLI, refusal, startHarness, tempDir } from '../reservations/helpers.js';

describe('payflow token create', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());

  it('makes an admin token that a running controller accepts at once; a second token of that name is refused', async () => {
    const h = await startHarness(t.dir);
    const made = spawnSync('node', [CLI, 'token', 'create', '--name', 'ops', '--scope', 'admin', '--data-dir', t.dir, '--json'], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const { token, sha256 } = JSON.parse(made.stdout) as { token: string; sha256: string };
    expect(token).toMatch(/^pft_[0-9a-f]{64}$/);
    const again = spawnSync('node', [CLI, 'token', 'create', '--name', 'ops', '--scope', 'read', '--data-dir', t.dir], { encoding: 'utf8' });
    expect(again.status).toBe(2);
    try {
      expect(h.running.store.db.prepare('SELECT sha256, scope FROM api_tokens').all()).toEqual([{ sha256, scope: 'admin' }]);
      const q = await h.api.quote({ src: '10.0.0.1', dst: '10.0.0.2', rate: '1mbit', duration: '60s' });
      const r = await h.api.reserve(q.quote.id, await h.pay(q.quote));
      const admin = new ApiClient(h.running.url, { token });
      expect((await admin.reservations()).map((x) => x.id)).toEqual([r.id]);
      expect((await admin.cancel(r.id)).refund?.to).toBe(h.payer.address);
      expect(await refusal(new ApiClient(h.running.url, { token: `${token}0` }).reservation(r.id))).toMatchObject({ status: 401, code: 'token_invalid' });
    } finally {
      await h.close();
    }
  });
});
