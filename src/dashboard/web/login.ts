// The login page (the only page served without a session): the token printed by `isthmus up` or
// `isthmus dashboard` is posted to /api/login, which sets the session cookie; then on to the page the
// user was sent away from (`?next=`, same-site paths only) or the graph.

import { postJson } from './api.js';
import { doc, win, type InputEl } from './dom.js';
import { nextPage } from './routes.js';

const form = doc.getElementById('login-form');
const input = doc.getElementById('token') as InputEl | null;
const error = doc.getElementById('login-error');
form?.addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (input === null) return;
  input.disabled = true;
  void postJson('/api/login', { token: input.value })
    .then((res) => {
      if (res.ok) return win.location.replace(nextPage(win.location.search));
      if (error !== null) error.textContent = res.status === 401 ? 'Invalid token. Use the token printed by `isthmus up` or `isthmus dashboard`.' : `Login failed: HTTP ${res.status}`;
    })
    .catch((e: unknown) => {
      if (error !== null) error.textContent = `Login failed: ${e instanceof Error ? e.message : String(e)}`;
    })
    .finally(() => {
      input.disabled = false;
      input.focus();
    });
});
input?.focus();
