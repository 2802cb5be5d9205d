// The HTTP clients (src/api/client.ts, src/payments/http-client.ts, through
// src/util/json-http.ts) when nothing answers: a typed error naming the service, the address
// and the cause, not fetch's bare "fetch failed".
import { createServer, type AddressInfo } from 'node:net';
import { expect, test } from 'vitest';
import { ApiClient, ApiError } from '../../src/api/client.js';
import { LedgerHttpClient } from '../../src/payments/http-client.js';
import { LedgerError } from '../../src/payments/ledger.js';

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

test('the controller client: ApiError unreachable, status 0, with the address and ECONNREFUSED', async () => {
  const base = `http://127.0.0.1:${await closedPort()}`;
  const err = await new ApiClient(base).menu().then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApiError);
  expect(err).toMatchObject({ status: 0, code: 'unreachable' });
  expect((err as Error).message).toBe(`cannot reach the controller at ${base}: connect ECONNREFUSED ${base.slice('http://'.length)}`);
});

test('the ledger client: LedgerError unreachable (502), with the address and ECONNREFUSED', async () => {
  const base = `http://127.0.0.1:${await closedPort()}/v1/ledger`;
  const err = await new LedgerHttpClient(base).info().then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(LedgerError);
  expect(err).toMatchObject({ status: 502, code: 'unreachable' });
  expect((err as Error).message).toMatch(new RegExp(`^cannot reach the ledger at ${base.replace(/[.]/g, '\\.')}: connect ECONNREFUSED`));
});
