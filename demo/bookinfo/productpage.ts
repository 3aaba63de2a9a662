// productpage: Bookinfo's front end (samples/bookinfo/src/productpage). It renders the book page from
// details and reviews, lets a user sign in (any name; Istio's tasks use "jason"), and serves the same
// JSON API as Bookinfo. Behaviour the Istio tasks rely on, kept as Bookinfo has it:
// - a signed-in user's name goes to details and reviews as the `end-user` header (request routing);
//   an `end-user` header sent by the browser is not passed on, only the session counts;
// - every call waits at most 3 s, and the call to reviews is tried twice, so a 7 s ratings delay behind
//   reviews v2 (which waits 10 s) shows "Sorry, product reviews are currently unavailable for this book."
//   after about 6 s (fault injection);
// - a failed backend gives Bookinfo's error texts in the page, and the page itself still answers 200.
//
//   DETAILS_HOSTNAME=127.0.0.1 DETAILS_PORT=9081 REVIEWS_HOSTNAME=127.0.0.1 REVIEWS_PORT=9082 \
//     node --import tsx demo/bookinfo/productpage.ts

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHttpClient, forwardHeaders, listenConfig, pathOf, sendHtml, sendJson, sendText, serve, serviceUrl } from './shared.js';
import { renderIndex, renderProductPage, type Fetched, type Product } from './productpage-html.js';

const CALL_TIMEOUT_MS = 3000;
const REVIEWS_ATTEMPTS = 2;
const SESSION_COOKIE = 'session';

const PRODUCTS: readonly Product[] = [{
  id: 0,
  title: 'The Comedy of Errors',
  descriptionHtml: '<a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Wikipedia Summary</a>: The Comedy of Errors is one of <b>William Shakespeare\'s</b> early plays. It is his shortest and one of his most farcical comedies, with a major part of the humour coming from slapstick and mistaken identity, in addition to puns and word play.',
}];

const env = process.env;
const services = { details: serviceUrl(env, 'details'), reviews: serviceUrl(env, 'reviews'), ratings: serviceUrl(env, 'ratings') };
const client = createHttpClient();

/** The signed-in user: the `session` cookie holds the URL-encoded name (no password, as in Bookinfo). */
function sessionUser(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      try {
        const user = decodeURIComponent(part.slice(eq + 1).trim());
        return user === '' ? undefined : user;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Headers for calls made on behalf of `req`: the traced ones, and end-user from the session only. */
function outgoingHeaders(req: IncomingMessage): Record<string, string> {
  const headers = forwardHeaders(req.headers);
  delete headers['end-user'];
  const user = sessionUser(req);
  if (user !== undefined) headers['end-user'] = user;
  return headers;
}

/** One call as Bookinfo makes it: 200 gives the body; anything else its status (500 if none) and `error`. */
async function fetchFrom(url: string, headers: Record<string, string>, error: string, attempts = 1): Promise<Fetched> {
  let status = 500;
  for (let i = 0; i < attempts; i++) {
    const result = await client.getJson(url, headers, CALL_TIMEOUT_MS);
    if (result.kind === 'response' && result.status === 200) return { status: 200, body: result.body };
    status = result.kind === 'response' ? result.status : 500;
  }
  return { status, body: { error } };
}

const getDetails = (id: string, headers: Record<string, string>): Promise<Fetched> =>
  fetchFrom(`${services.details}/details/${id}`, headers, 'Sorry, product details are currently unavailable for this book.');
// Two attempts: Bookinfo's productpage retries reviews once on its own (kept for the fault-injection task).
const getReviews = (id: string, headers: Record<string, string>): Promise<Fetched> =>
  fetchFrom(`${services.reviews}/reviews/${id}`, headers, 'Sorry, product reviews are currently unavailable for this book.', REVIEWS_ATTEMPTS);
const getRatings = (id: string, headers: Record<string, string>): Promise<Fetched> =>
  fetchFrom(`${services.ratings}/ratings/${id}`, headers, 'Sorry, product ratings are currently unavailable for this book.');

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  req.setEncoding('utf8');
  for await (const chunk of req) {
    body += chunk as string;
    if (body.length > 65_536) throw new Error('login form too large');
  }
  return new URLSearchParams(body);
}

/** Back to the page the form was on, as Bookinfo does, or to the product page. */
function redirectBack(req: IncomingMessage, res: ServerResponse, cookie: string): void {
  res.writeHead(302, { location: req.headers.referer ?? '/productpage', 'set-cookie': cookie, 'content-length': 0 });
  res.end();
}

function sendFetched(res: ServerResponse, fetched: Fetched): void {
  sendJson(res, fetched.status, fetched.body);
}

await serve(listenConfig(env), async (req, res) => {
  const path = pathOf(req);
  // HEAD is GET without the body, as Flask answers it for Bookinfo's GET routes (node:http leaves the body out).
  const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
  if (method === 'GET' && (path === '/' || path === '/index.html')) return sendHtml(res, 200, renderIndex(services));
  if (method === 'GET' && path === '/health') return sendText(res, 200, 'Product page is healthy');

  if (method === 'POST' && path === '/login') {
    // Any name signs in; the password is not checked. `username` is Bookinfo's field, `user` also works.
    const form = await readForm(req);
    const user = form.get('username') ?? form.get('user') ?? '';
    if (user === '') return redirectBack(req, res, `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
    return redirectBack(req, res, `${SESSION_COOKIE}=${encodeURIComponent(user)}; Path=/; HttpOnly; SameSite=Lax`);
  }
  if (method === 'GET' && path === '/logout') {
    return redirectBack(req, res, `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
  }

  if (method === 'GET' && path === '/productpage') {
    const product = PRODUCTS[0];
    if (product === undefined) return sendText(res, 404, 'no such product');
    const headers = outgoingHeaders(req);
    const [details, reviews] = await Promise.all([getDetails(String(product.id), headers), getReviews(String(product.id), headers)]);
    return sendHtml(res, 200, renderProductPage({ user: sessionUser(req), product, details, reviews }));
  }

  if (method === 'GET' && path === '/api/v1/products') return sendJson(res, 200, PRODUCTS);
  const api = /^\/api\/v1\/products\/([^/]+)(?:\/(reviews|ratings))?$/.exec(path);
  if (method === 'GET' && api?.[1] !== undefined) {
    const id = api[1];
    const headers = outgoingHeaders(req);
    if (api[2] === 'reviews') return sendFetched(res, await getReviews(id, headers));
    if (api[2] === 'ratings') return sendFetched(res, await getRatings(id, headers));
    return sendFetched(res, await getDetails(id, headers));
  }
  return sendText(res, 404, 'Not Found');
}, () => client.close());
