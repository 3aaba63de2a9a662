// The web app's calls to the dashboard API. A 401 means the session is gone (expired, or the control
// plane restarted with a new token): back to the login page, returning here after it.

import { LOGIN_PATH, type ApiError } from '../shared/api-types.js';
import { win } from './dom.js';

export class ApiFailure extends Error {}

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (res.status === 401) {
    win.location.assign(`${LOGIN_PATH}?next=${encodeURIComponent(win.location.pathname + win.location.search)}`);
    throw new ApiFailure('not logged in');
  }
  const body = (await res.json().catch(() => ({ error: `HTTP ${res.status}` }))) as unknown;
  if (!res.ok) throw new ApiFailure((body as Partial<ApiError>).error ?? `HTTP ${res.status}`);
  return body as T;
}

export async function postJson(path: string, value: unknown): Promise<Response> {
  return fetch(path, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
}
