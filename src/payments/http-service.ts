// The local ledger over HTTP, so that hosts in a testbed can pay: a fastify plugin with JSON-schema validation of every body, for
// `payflow ledger serve` and for `payflow controller` to mount under its own server.
// Errors are JSON { "error": { "code", "message" } } with a fitting 4xx: 400 for bad JSON
// or a body that does not match the schema, 402 for payment problems (bad signature,
// insufficient funds, a refused payment proof), 404 for an unknown channel, 409 for
// conflicts (nonce, replay, timing). A refused request changes nothing: every write is one
// SQLite transaction that rolls back on error. Minting is not here: it needs an operator's
// admin token, which the server that mounts this plugin checks (src/api/mint-routes.ts).
import Fastify, { type FastifyError, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { auditLedger } from './audit.js';
import { formatAmount, parseAmount } from './amount.js';
import { LedgerError } from './ledger.js';
import { CHANNEL_KEY_PATTERN, VOUCHER_SIGNATURE_PATTERN } from './channel-keys.js';
import type { LocalLedger } from './local-ledger.js';

export interface LedgerPluginOptions {
  ledger: LocalLedger;
}

const amount = { type: 'string', pattern: '^(0|[1-9][0-9]{0,18})$' } as const;
const address = { type: 'string', pattern: '^pf1[0-9a-f]{64}$' } as const;
const hex64 = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;
const signature = { type: 'string', pattern: '^[0-9a-f]{128}$' } as const;
// A channel key and a voucher signature take the forms of the channel's scheme (channel-keys.ts);
// the schema checks the shape, the ledger parses the key and verifies the signature.
const channelKey = { type: 'string', pattern: CHANNEL_KEY_PATTERN } as const;
const voucherSignature = { type: 'string', pattern: VOUCHER_SIGNATURE_PATTERN } as const;
const nonce = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const;
const memo = { type: 'string', maxLength: 256 } as const;

const transferSchema = {
  type: 'object',
  required: ['from', 'to', 'amount', 'nonce', 'memo', 'signature'],
  additionalProperties: false,
  properties: { from: address, to: address, amount, nonce, memo, signature },
} as const;

const verifySchema = {
  type: 'object',
  required: ['proof', 'payTo', 'amount', 'memo'],
  additionalProperties: false,
  properties: {
    proof: {
      type: 'object',
      required: ['ledger', 'id'],
      additionalProperties: false,
      properties: { ledger: { type: 'string', enum: ['local'] }, id: { type: 'string', maxLength: 128 } },
    },
    payTo: address,
    amount,
    memo,
  },
} as const;

const channelOpenSchema = {
  type: 'object',
  required: ['from', 'payee', 'channelKey', 'deposit', 'timeoutAt', 'nonce', 'signature'],
  additionalProperties: false,
  properties: {
    from: address,
    payee: address,
    channelKey,
    deposit: amount,
    timeoutAt: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    nonce,
    signature,
  },
} as const;

const voucherSchema = {
  type: 'object',
  required: ['channel', 'cumulative', 'sequence', 'signature'],
  additionalProperties: false,
  properties: { channel: hex64, cumulative: amount, sequence: nonce, signature: voucherSignature },
} as const;

const reclaimSchema = {
  type: 'object',
  required: ['channel', 'from', 'nonce', 'signature'],
  additionalProperties: false,
  properties: { channel: hex64, from: address, nonce, signature },
} as const;

const channelParams = { type: 'object', required: ['id'], properties: { id: hex64 } } as const;

function sendError(status: number, code: string, message: string) {
  return { status, body: { error: { code, message } } };
}

/** Maps anything thrown in a route to the JSON error contract. */
function toHttpError(err: unknown): { status: number; body: { error: { code: string; message: string } } } {
  if (err instanceof LedgerError) return sendError(err.status, err.code, err.message);
  if (!(err instanceof Error)) return sendError(500, 'internal', 'internal error');
  const fe = err as FastifyError;
  if (fe.validation) return sendError(400, 'bad_request', fe.message);
  if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) return sendError(400, 'bad_json', 'the body is not valid JSON');
  if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return sendError(400, 'bad_json', 'the body is empty');
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendError(415, 'unsupported_media_type', 'send application/json');
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(413, 'too_large', 'the body is too large');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return sendError(fe.statusCode, 'bad_request', fe.message);
  return sendError(500, 'internal', 'internal error');
}

/**
 * Registers the ledger's routes. Mount with a prefix, e.g.
 *   app.register(ledgerPlugin, { prefix: '/v1/ledger', ledger })
 */
export const ledgerPlugin: FastifyPluginAsync<LedgerPluginOptions> = async (app, options) => {
  const { ledger } = options;

  app.setErrorHandler((err, request, reply) => {
    const { status, body } = toHttpError(err);
    if (status >= 500) request.log.error(err);
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => reply.status(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url}` } }));

  app.get('/info', async () => ({
    ledger: 'local',
    ledgerId: ledger.ledgerId,
    authority: ledger.authority,
    operatorAddress: ledger.operatorAddress || null,
    testbed: ledger.testbed,
    head: ledger.head(),
  }));

  app.get<{ Params: { address: string } }>(
    '/accounts/:address',
    { schema: { params: { type: 'object', required: ['address'], properties: { address } } } },
    async (request) => {
      const a = ledger.account(request.params.address);
      return { address: request.params.address, balance: formatAmount(a.balance), nonce: a.nonce };
    },
  );

  app.post('/transfers', { schema: { body: transferSchema } }, async (request, reply) => {
    const e = ledger.transfer(request.body);
    return reply.status(201).send({ id: e.txId, seq: e.seq, hash: e.hash, proof: { ledger: 'local', id: e.txId } });
  });

  app.post<{ Body: { proof: { ledger: 'local'; id: string }; payTo: string; amount: string; memo: string } }>(
    '/payments/verify',
    { schema: { body: verifySchema } },
    async (request, reply) => {
      const b = request.body;
      const verdict = await ledger.verifyPayment(b.proof, { payTo: b.payTo, amount: parseAmount(b.amount), memo: b.memo });
      if (!verdict.ok) return reply.status(402).send({ error: { code: verdict.reason, message: verdict.message } });
      return { ok: true, proof: verdict.proof, amount: formatAmount(verdict.amount), payer: verdict.payer };
    },
  );

  app.post('/channels', { schema: { body: channelOpenSchema } }, async (request, reply) => {
    const e = ledger.openChannel(request.body);
    return reply.status(201).send({ channel: e.txId, seq: e.seq, hash: e.hash });
  });

  app.get<{ Params: { id: string } }>('/channels/:id', { schema: { params: channelParams } }, async (request, reply) => {
    const c = ledger.channel(request.params.id);
    if (!c) return reply.status(404).send({ error: { code: 'unknown_channel', message: `no channel ${request.params.id}` } });
    return { ...c, deposit: formatAmount(c.deposit), settled: formatAmount(c.settled) };
  });

  app.post<{ Params: { id: string }; Body: { voucher: { channel: string } } }>(
    '/channels/:id/settle',
    { schema: { params: channelParams, body: { type: 'object', required: ['voucher'], additionalProperties: false, properties: { voucher: voucherSchema } } } },
    async (request, reply) => {
      if (request.body.voucher.channel !== request.params.id) throw new LedgerError('malformed', 'the voucher is for another channel', 400);
      const e = ledger.settleChannel(request.body.voucher);
      return reply.status(201).send({ seq: e.seq, hash: e.hash });
    },
  );

  app.post<{ Params: { id: string }; Body: { channel: string } }>(
    '/channels/:id/reclaim',
    { schema: { params: channelParams, body: reclaimSchema } },
    async (request, reply) => {
      if (request.body.channel !== request.params.id) throw new LedgerError('malformed', 'the reclaim is for another channel', 400);
      const e = ledger.reclaimChannel(request.body);
      return reply.status(201).send({ seq: e.seq, hash: e.hash });
    },
  );

  app.get('/audit', async () => auditLedger(ledger.store, ledger.checkpointFile !== undefined ? { checkpointFile: ledger.checkpointFile } : {}));
};

export interface LedgerServer {
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:8090/v1/ledger */
  url: string;
  close(): Promise<void>;
}

/**
 * A standalone server for `payflow ledger serve` (and tests): the plugin under /v1/ledger,
 * plus what `extend` registers before it listens (the admin-only faucet, src/api/ledger-server.ts).
 */
export async function startLedgerServer(options: {
  ledger: LocalLedger;
  host?: string;
  port?: number;
  prefix?: string;
  logger?: boolean;
  extend?: (app: FastifyInstance, prefix: string) => Promise<void>;
}): Promise<LedgerServer> {
  const prefix = options.prefix ?? '/v1/ledger';
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 64 * 1024 });
  await app.register(ledgerPlugin, { prefix, ledger: options.ledger });
  await options.extend?.(app, prefix);
  const address = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  return { app, url: `${address}${prefix}`, close: () => app.close() };
}
