// src/api/errors.ts: the one table from the reservation side's refusal codes to HTTP
// statuses, and the JSON error body every answer carries.
import { describe, expect, it } from 'vitest';
import { errorResponse, REFUSAL_STATUS } from '../../src/api/errors.js';
import { Refusal } from '../../src/reservations/refusal.js';

describe('API errors', () => {
  it('gives every refusal code a 4xx or 5xx status', () => {
    for (const [code, status] of Object.entries(REFUSAL_STATUS)) expect([code, status >= 400 && status < 600]).toEqual([code, true]);
  });

  it('answers a refusal with its status, code, message and details', () => {
    const bottleneck = { resource: '0000000000000002:2', capacityBps: 10e6 };
    const r = new Refusal('capacity_unavailable', 'does not fit', { maxFitBps: 1, bottleneck });
    expect(errorResponse(r)).toEqual({ status: 409, body: { error: { code: 'capacity_unavailable', message: 'does not fit', maxFitBps: 1, bottleneck } } });
    expect(errorResponse(new Refusal('too_little', 'x')).status).toBe(402);
    expect(errorResponse(new Refusal('quote_expired', 'x')).status).toBe(410);
    expect(errorResponse(new Refusal('unknown_host', 'x')).status).toBe(422);
  });

  it('sends a withdrawn class as unknown_class, with 409', () => {
    expect(errorResponse(new Refusal('class_withdrawn', 'class gold is no longer offered'))).toEqual({
      status: 409,
      body: { error: { code: 'unknown_class', message: 'class gold is no longer offered' } },
    });
  });

  it('hides anything else behind a 500 internal error', () => {
    expect(errorResponse(new Error('disk on fire'))).toEqual({ status: 500, body: { error: { code: 'internal', message: 'internal error' } } });
    expect(errorResponse('nonsense').status).toBe(500);
  });
});
