// Minting on a testbed ledger over HTTP (docs/security.md, "Run-time changes and minting"):
// one handler for every place that mints — the controller's POST /v1/admin/mint, and
// POST /v1/ledger/faucet on the controller and on `payflow ledger serve`, kept at that
// address for the clients that fund wallets there. Only an operator token of scope admin
// mints: no token is 401 token_missing (the message says how to get one), a read token or an
// account's signature 403 not_allowed, a production ledger 403 faucet_disabled. Every
// attempt with a token goes to the audit log (operator-audit.ts), whatever its outcome.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiTokenConfig } from '../config/types.js';
import { Refusal } from '../reservations/refusal.js';
import { operatorByToken } from './auth.js';
import { errorResponse } from './errors.js';
import { auditedAction } from './operator-audit.js';
import type { RequestStore } from './request-store.js';
import { SIGNATURE_HEADER } from './request-signature.js';

export interface MintRoutesOptions {
  /** where the handler answers, e.g. ['/v1/admin/mint', '/v1/ledger/faucet'] */
  paths: readonly string[];
  /** the tokens of the config (http.tokens); the store's (`payflow token create`) are added */
  tokens: readonly ApiTokenConfig[];
  /** the store's tokens, and the audit log */
  requests: RequestStore;
  /** mints on the local ledger (refused there on a production ledger); absent = no ledger to mint on */
  mint: ((address: string, amount: bigint) => { txId: string; seq: number; hash: string }) | undefined;
  now: () => number;
}

const mintBody = {
  type: 'object',
  required: ['address', 'amount'],
  additionalProperties: false,
  properties: { address: { type: 'string', pattern: '^pf1[0-9a-f]{64}$' }, amount: { type: 'string', pattern: '^[1-9][0-9]{0,18}$' } },
} as const;

export const MINT_TOKEN_HINT = 'minting needs an operator token of scope admin: send "Authorization: Bearer <token>" (`payflow token create --scope admin`; `payflow reserve --faucet --token TOKEN` or PAYFLOW_TOKEN)';

/** Registers the mint handler at every path of `o.paths` (register it as a plugin: it keeps its own error handler). */
export async function mintRoutes(app: FastifyInstance, o: MintRoutesOptions): Promise<void> {
  app.setErrorHandler((err, request, reply) => {
    const { status, body } = errorResponse(err);
    if (status >= 500) request.log.error({ err }, 'request failed');
    return reply.status(status).send(body);
  });

  const handler = async (request: FastifyRequest<{ Body: { address: string; amount: string } }>, reply: FastifyReply) => {
    const authorization = request.headers.authorization;
    if (authorization === undefined) {
      if (request.headers[SIGNATURE_HEADER] !== undefined) throw new Refusal('not_allowed', `an account's signature does not mint; ${MINT_TOKEN_HINT}`);
      throw new Refusal('token_missing', MINT_TOKEN_HINT);
    }
    const operator = operatorByToken(authorization, [...o.tokens, ...o.requests.tokens()]);
    const minted = await auditedAction(o.requests, o.now, request, operator, 'change', request.body.address, async () => {
      if (!o.mint) throw new Refusal('faucet_disabled', 'this server keeps no local ledger to mint on');
      try {
        return o.mint(request.body.address, BigInt(request.body.amount));
      } catch (err) {
        if ((err as { code?: unknown }).code === 'faucet_disabled') throw new Refusal('faucet_disabled', (err as Error).message);
        throw err;
      }
    });
    return reply.status(201).send({ id: minted.txId, seq: minted.seq, hash: minted.hash });
  };
  for (const url of o.paths) app.post(url, { schema: { body: mintBody } }, handler);
}
