// The audit log of operator actions (docs/security.md, "Operator tokens"): every action taken
// with an operator token is written to api_audit and logged, whatever its outcome, and a
// read token may read but not change anything. Shared by the reservation routes and by
// minting (mint-routes.ts), so that both check scopes and record in the same way.
import type { FastifyRequest } from 'fastify';
import type { TokenScope } from '../config/types.js';
import { Refusal } from '../reservations/refusal.js';
import { errorResponse } from './errors.js';
import type { RequestStore } from './request-store.js';

export type OperatorAction = 'read' | 'change';

/** An operator as auth.ts identifies one by its token. */
export interface Operator {
  kind: 'operator';
  token: string;
  scope: TokenScope;
}

/**
 * Runs an operator's action: refuses a change by a read token (403 not_allowed), and writes
 * the action with its status and outcome to the audit log, succeeded or refused.
 */
export async function auditedAction<T>(
  requests: RequestStore,
  now: () => number,
  request: FastifyRequest,
  operator: Operator,
  action: OperatorAction,
  target: string,
  run: () => Promise<T>,
): Promise<T> {
  const route = `${request.method} ${request.routeOptions.url ?? request.url}`;
  const record = (status: number, outcome: string): void => {
    requests.audit({ at: now(), actor: operator.token, action: route, target, status, outcome });
    request.log.info({ audit: { actor: operator.token, scope: operator.scope, action: route, target, status, outcome } }, 'operator action');
  };
  try {
    if (action === 'change' && operator.scope !== 'admin') throw new Refusal('not_allowed', `token ${operator.token} may read, not change (scope read)`);
    const result = await run();
    record(200, 'ok');
    return result;
  } catch (err) {
    record(errorResponse(err).status, err instanceof Refusal ? err.code : 'error');
    throw err;
  }
}
