// Calls to `loyalty serve` (SPEC §8) from the pages: JSON in and out, the server's coded error
// `{ error: { code, message, path } }` kept as is. A till sends its key as a bearer token; an
// admin's session is a cookie, with the CSRF token on every write.
export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = error?.code ?? 'network';
    this.path = error?.path ?? '';
  }
}

export async function api(path, { method = 'GET', body, key, csrf, idem } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (key) headers.authorization = `Bearer ${key}`;
  if (csrf && method !== 'GET') headers['x-csrf-token'] = csrf;
  if (idem) headers['idempotency-key'] = idem;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch (e) {
    // No answer at all: offline, or the server is down.
    throw new ApiError(0, { code: 'network', message: e.message });
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!res.ok) throw new ApiError(res.status, data?.error);
  return data;
}

/** A random id (idempotency keys, document numbers). */
export const newId = (prefix = '') => `${prefix}${crypto.randomUUID()}`;
