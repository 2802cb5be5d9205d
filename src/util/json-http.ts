// One JSON-over-HTTP request as PayFlow's HTTP clients make them (the controller's API
// client, src/api/client.ts, and the ledger's, src/payments/http-client.ts): a JSON body
// out, a JSON body back, and the service's error shape `{ error: { code, message, ...} }`
// (docs/design.md, "Contracts") turned into one failure value that each client wraps in its own
// error class. A network failure names the address and its cause (ECONNREFUSED, ...)
// rather than fetch's bare "fetch failed".

export interface JsonHttpFailure {
  /** the HTTP status; 0 when nothing answered */
  status: number;
  code: string;
  message: string;
  /** the error object's other fields */
  details: Record<string, unknown>;
}

export type JsonHttpResult<T> = { ok: true; value: T } | { ok: false; failure: JsonHttpFailure };

/**
 * `service` names who answers, for messages ("the controller", "the ledger"). A string
 * body is sent as it is (already JSON: a signed request signs exactly these bytes).
 */
export async function requestJson<T>(
  base: string,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body: unknown,
  service: string,
  headers: Record<string, string> = {},
): Promise<JsonHttpResult<T>> {
  const init: RequestInit = { method, headers: body === undefined ? { ...headers } : { ...headers, 'content-type': 'application/json' } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  let res: Response;
  try {
    res = await fetch(base + path, init);
  } catch (err) {
    const cause = (err as Error & { cause?: { message?: string } }).cause?.message;
    return { ok: false, failure: { status: 0, code: 'unreachable', message: `cannot reach ${service} at ${base}: ${cause ?? (err as Error).message}`, details: {} } };
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    return { ok: false, failure: { status: res.status, code: 'bad_response', message: `${service} answered ${res.status} with non-JSON`, details: {} } };
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } & Record<string, unknown> }).error ?? {};
    const { code, message, ...details } = e;
    return { ok: false, failure: { status: res.status, code: code ?? 'http_error', message: message ?? `HTTP ${res.status}`, details } };
  }
  return { ok: true, value: json as T };
}
