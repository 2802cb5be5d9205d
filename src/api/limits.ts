// Limits of the HTTP API: how long a request may take to arrive and a connection may idle
// (fastify's requestTimeout / connectionTimeout / keepAliveTimeout, against slow bodies and
// idle sockets), how large a body may be, and how many requests one client may make, with
// @fastify/rate-limit: per client address on every route (counted before anything else is
// done), and per signing key on the signed routes (counted once the signature verified, so
// nobody can use up another key's allowance by naming it). Over a limit the answer is 429
// `rate_limited` with Retry-After (seconds, RFC 9110 section 10.2.3).
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpConfig } from '../config/types.js';
import { Refusal } from '../reservations/refusal.js';

/** The fastify constructor options that the limits set. */
export function serverLimits(http: HttpConfig): { requestTimeout: number; connectionTimeout: number; keepAliveTimeout: number; bodyLimit: number } {
  return { requestTimeout: http.requestTimeoutMs, connectionTimeout: http.connectionTimeoutMs, keepAliveTimeout: http.keepAliveTimeoutMs, bodyLimit: http.bodyLimitBytes };
}

/** Counts a signed request against its key's allowance; throws rate_limited when it is used up. */
export type KeyLimiter = (request: FastifyRequest, reply: FastifyReply, keyId: string) => Promise<void>;

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

/** Registers the rate limits on `app` (every route, including the ledger's); returns the per-key limiter. */
export async function installRateLimits(app: FastifyInstance, http: HttpConfig): Promise<KeyLimiter> {
  await app.register(rateLimit, { global: false });
  const keys = new WeakMap<FastifyRequest, string>();
  const perAddress = app.createRateLimit({ max: http.rateLimit.perAddress.max, timeWindow: http.rateLimit.perAddress.windowMs, keyGenerator: (r) => `address:${r.ip}` });
  const perKey = app.createRateLimit({ max: http.rateLimit.perKey.max, timeWindow: http.rateLimit.perKey.windowMs, keyGenerator: (r) => `key:${keys.get(r) ?? ''}` });
  app.addHook('onRequest', async (request, reply) => enforce(await perAddress(request), reply, `address ${request.ip}`));
  return async (request, reply, keyId) => {
    keys.set(request, keyId);
    enforce(await perKey(request), reply, `key ${keyId.slice(0, 24)}…`);
  };
}

function enforce(result: Awaited<ReturnType<Limiter>>, reply: FastifyReply, who: string): void {
  if (result.isAllowed || !result.isExceeded) return;
  reply.header('retry-after', String(Math.max(1, result.ttlInSeconds)));
  throw new Refusal('rate_limited', `too many requests from ${who}: at most ${result.max} per ${result.timeWindow / 1000} s; retry after ${Math.max(1, result.ttlInSeconds)} s`, {
    retryAfterSeconds: Math.max(1, result.ttlInSeconds),
  });
}
