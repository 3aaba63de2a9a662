// The Bookinfo demo without a mesh: every service runs as its own process (as `isthmus up` runs them),
// wired to each other directly by env, and is checked from outside over HTTP. Where a test needs to see
// or control what a service sends onward, a small recording server in this process stands in for the
// service it calls.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { tsImport } from '../../test/support/ts-import.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PROXY_VARS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'];

interface App {
  readonly url: string;
  readonly port: string;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const running: App[] = [];

/** Starts demo/bookinfo/<name>.ts on a free port and waits for its `listening on` line. */
function startApp(name: string, env: Record<string, string>): Promise<App> {
  const childEnv: Record<string, string | undefined> = { ...process.env };
  for (const v of PROXY_VARS) delete childEnv[v];
  Object.assign(childEnv, { HOST: '127.0.0.1', PORT: '0' }, env);
  const child = spawn(process.execPath, [...tsImport(), `demo/bookinfo/${name}.ts`], { cwd: ROOT, env: childEnv });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  return new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(stdout);
      if (m?.[1] !== undefined && m[2] !== undefined) {
        const app: App = { url: m[1], port: m[2], stop: (signal = 'SIGTERM') => stopChild(child, exited, signal) };
        running.push(app);
        resolve(app);
      }
    });
    void exited.then((code) => reject(new Error(`${name} exited (${code}) before listening:\n${stderr}`)));
  });
}

function stopChild(child: ChildProcess, exited: Promise<number | null>, signal: NodeJS.Signals): Promise<number | null> {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  return exited;
}

/** Runs a service that is expected to refuse to start; resolves with its exit code and stderr. */
function runToExit(name: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [...tsImport(), `demo/bookinfo/${name}.ts`], { cwd: ROOT, env: { ...process.env, PORT: '0', ...env } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

/** A port nothing listens on: a service pointed at it finds its backend down. */
async function closedPort(): Promise<string> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return String(port);
}

interface Reply { readonly status: number; readonly body: unknown }

/** Stands in for a backend: records each request's headers and answers from `replies` (the last repeats). */
interface Recorder {
  readonly port: string;
  readonly seen: IncomingHttpHeaders[];
  replies: Reply[];
  readonly server: Server;
}

async function startRecorder(replies: Reply[], opts: { hang?: boolean } = {}): Promise<Recorder> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    if (opts.hang === true) return;
    const reply = recorder.replies.length > 1 ? recorder.replies.shift() : recorder.replies[0];
    res.writeHead(reply?.status ?? 200, { 'content-type': 'application/json' }).end(JSON.stringify(reply?.body ?? {}));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const recorder: Recorder = { port: String((server.address() as AddressInfo).port), seen, replies, server };
  recorders.push(recorder);
  return recorder;
}
const recorders: Recorder[] = [];

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

async function getText(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { headers });
  return { status: res.status, text: await res.text() };
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

const DETAILS = {
  id: 0, author: 'William Shakespeare', year: 1595, type: 'paperback', pages: 200,
  publisher: 'PublisherA', language: 'English', 'ISBN-10': '1234567890', 'ISBN-13': '123-1234567890',
};
const TEXT1 = 'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!';
const TEXT2 = 'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.';
const RATINGS_DOWN = 'Ratings service is currently unavailable';
const REVIEWS_DOWN = 'Sorry, product reviews are currently unavailable for this book.';
const DETAILS_DOWN = 'Sorry, product details are currently unavailable for this book.';
const FILLED = 'glyphicon glyphicon-star"';

describe('bookinfo demo', () => {
  let details: App;
  let ratings: App;
  const reviews: Record<string, App> = {};
  const pages: Record<string, App> = {};

  before(async () => {
    [details, ratings] = await Promise.all([startApp('details', {}), startApp('ratings', {})]);
    const ratingsEnv = { RATINGS_HOSTNAME: '127.0.0.1', RATINGS_PORT: ratings.port, CLUSTER_NAME: 'cluster-1' };
    await Promise.all(['v1', 'v2', 'v3'].map(async (v) => {
      reviews[v] = await startApp('reviews', { ...ratingsEnv, SERVICE_VERSION: v, HOSTNAME: `reviews-${v}-test` });
    }));
    await Promise.all(['v1', 'v2', 'v3'].map(async (v) => {
      pages[v] = await startApp('productpage', {
        DETAILS_HOSTNAME: '127.0.0.1', DETAILS_PORT: details.port,
        REVIEWS_HOSTNAME: '127.0.0.1', REVIEWS_PORT: reviews[v]?.port ?? '',
        RATINGS_HOSTNAME: '127.0.0.1', RATINGS_PORT: ratings.port,
      });
    }));
  });

  after(async () => {
    await Promise.all(running.map((a) => a.stop()));
    for (const r of recorders) {
      r.server.closeAllConnections();
      r.server.close();
    }
  });

  it('details serves the book as Bookinfo does, and 400 for a non-numeric id', async () => {
    assert.deepEqual(await getJson(`${details.url}/details/0`), { status: 200, body: DETAILS });
    assert.deepEqual(await getJson(`${details.url}/details/abc`), { status: 400, body: { error: 'please provide numeric product id' } });
    assert.deepEqual(await getJson(`${details.url}/health`), { status: 200, body: { status: 'Details is healthy' } });
  });

  it('ratings serves two ratings', async () => {
    assert.deepEqual(await getJson(`${ratings.url}/ratings/0`), { status: 200, body: { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } } });
    assert.deepEqual(await getJson(`${ratings.url}/health`), { status: 200, body: { status: 'Ratings is healthy' } });
  });

  const versions = [
    { version: 'v1', rating: (_stars: number) => undefined },
    { version: 'v2', rating: (stars: number) => ({ stars, color: 'black' }) },
    { version: 'v3', rating: (stars: number) => ({ stars, color: 'red' }) },
  ];
  for (const { version, rating } of versions) {
    it(`reviews ${version} answers Bookinfo's JSON`, async () => {
      const withRating = (r: { reviewer: string; text: string }, stars: number): Record<string, unknown> => {
        const value = rating(stars);
        return value === undefined ? r : { ...r, rating: value };
      };
      assert.deepEqual(await getJson(`${reviews[version]?.url}/reviews/0`), {
        status: 200,
        body: {
          id: '0', podname: `reviews-${version}-test`, clustername: 'cluster-1',
          reviews: [withRating({ reviewer: 'Reviewer1', text: TEXT1 }, 5), withRating({ reviewer: 'Reviewer2', text: TEXT2 }, 4)],
        },
      });
    });
  }

  const pageCases = [
    { version: 'v1', filled: 0, color: undefined },
    { version: 'v2', filled: 9, color: 'black' },
    { version: 'v3', filled: 9, color: 'red' },
  ];
  for (const { version, filled, color } of pageCases) {
    it(`productpage with reviews ${version} shows ${color === undefined ? 'no stars' : `${color} stars`}`, async () => {
      const { status, text } = await getText(`${pages[version]?.url}/productpage?u=normal`);
      assert.equal(status, 200);
      assert.match(text, /<h1>The Comedy of Errors<\/h1>/);
      assert.match(text, /Book Details/);
      assert.match(text, /<td>PublisherA<\/td>/);
      assert.match(text, /Book Reviews/);
      assert.ok(text.includes(`"${TEXT1}"`) && text.includes(`"${TEXT2}"`));
      assert.match(text, new RegExp(`Reviews served by: reviews-${version}-test on cluster cluster-1`));
      assert.equal(count(text, FILLED), filled);
      assert.equal(count(text, 'data-color="black"'), color === 'black' ? 2 : 0);
      assert.equal(count(text, 'data-color="red"'), color === 'red' ? 2 : 0);
      assert.match(text, /Sign in/);
    });
  }

  it('productpage serves the index, health and Bookinfo\'s JSON API', async () => {
    const page = pages['v2'];
    const index = await getText(`${page?.url}/`);
    assert.equal(index.status, 200);
    assert.match(index.text, /href="\/productpage\?u=normal"/);
    assert.deepEqual(await getText(`${page?.url}/health`), { status: 200, text: 'Product page is healthy' });
    // HEAD answers as GET does, without a body (Flask does so for every GET route).
    const head = await fetch(`${page?.url}/productpage`, { method: 'HEAD' });
    assert.deepEqual([head.status, head.headers.get('content-type')?.startsWith('text/html'), await head.text()], [200, true, '']);
    const products = await getJson(`${page?.url}/api/v1/products`);
    assert.equal(products.status, 200);
    assert.deepEqual((products.body as { title: string }[]).map((p) => p.title), ['The Comedy of Errors']);
    assert.deepEqual(await getJson(`${page?.url}/api/v1/products/0`), { status: 200, body: DETAILS });
    const r = await getJson(`${page?.url}/api/v1/products/0/reviews`);
    assert.equal(r.status, 200);
    assert.deepEqual((r.body as { reviews: { rating: unknown }[] }).reviews.map((x) => x.rating), [{ stars: 5, color: 'black' }, { stars: 4, color: 'black' }]);
    assert.deepEqual(await getJson(`${page?.url}/api/v1/products/0/ratings`), { status: 200, body: { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } } });
  });

  describe('signed in, the user reaches reviews and ratings as end-user', () => {
    let recorder: Recorder;
    let page: App;
    before(async () => {
      recorder = await startRecorder([{ status: 200, body: { id: 0, ratings: { Reviewer1: 3, Reviewer2: 1 } } }]);
      const rev = await startApp('reviews', { SERVICE_VERSION: 'v2', RATINGS_HOSTNAME: '127.0.0.1', RATINGS_PORT: recorder.port });
      page = await startApp('productpage', { DETAILS_HOSTNAME: '127.0.0.1', DETAILS_PORT: details.port, REVIEWS_HOSTNAME: '127.0.0.1', REVIEWS_PORT: rev.port });
    });

    it('POST /login sets the session cookie and goes back to the page', async () => {
      const res = await fetch(`${page.url}/login`, {
        method: 'POST', redirect: 'manual', body: 'username=jason&passwd=',
        headers: { 'content-type': 'application/x-www-form-urlencoded', referer: `${page.url}/productpage?u=test` },
      });
      assert.equal(res.status, 302);
      assert.equal(res.headers.get('location'), `${page.url}/productpage?u=test`);
      assert.match(res.headers.get('set-cookie') ?? '', /^session=jason; Path=\//);
    });

    it('the page shows the user, and end-user and the trace headers reach ratings', async () => {
      recorder.seen.length = 0;
      const { text } = await getText(`${page.url}/productpage`, { cookie: 'session=jason', 'x-request-id': 'req-1', 'x-b3-traceid': 'abc' });
      assert.match(text, /Signed in as <strong>jason<\/strong>/);
      assert.match(text, /href="logout"/);
      assert.equal(count(text, FILLED), 4, 'stars from the stand-in ratings: 3 + 1');
      assert.equal(recorder.seen.length, 1);
      assert.equal(recorder.seen[0]?.['end-user'], 'jason');
      assert.equal(recorder.seen[0]?.['x-request-id'], 'req-1');
      assert.equal(recorder.seen[0]?.['x-b3-traceid'], 'abc');
    });

    it('without a session, an end-user header from the browser is not passed on', async () => {
      recorder.seen.length = 0;
      await getText(`${page.url}/productpage`, { 'end-user': 'mallory' });
      assert.equal(recorder.seen.length, 1);
      assert.equal(recorder.seen[0]?.['end-user'], undefined);
    });

    it('GET /logout clears the session', async () => {
      const res = await fetch(`${page.url}/logout`, { redirect: 'manual', headers: { cookie: 'session=jason' } });
      assert.equal(res.status, 302);
      assert.equal(res.headers.get('location'), '/productpage');
      assert.match(res.headers.get('set-cookie') ?? '', /^session=; .*Max-Age=0/);
    });

    it('ratings answering 500 (ratings-test-abort) shows Bookinfo\'s message on each review', async () => {
      recorder.replies = [{ status: 500, body: { error: 'fault filter abort' } }];
      const { status, text } = await getText(`${page.url}/productpage`, { cookie: 'session=jason' });
      assert.equal(status, 200);
      assert.equal(count(text, RATINGS_DOWN), 2);
      assert.equal(count(text, FILLED), 0);
      assert.ok(text.includes(TEXT1));
    });
  });

  it('reviews v2 with ratings down gives each review the unavailable error', async () => {
    const rev = await startApp('reviews', { SERVICE_VERSION: 'v2', RATINGS_HOSTNAME: '127.0.0.1', RATINGS_PORT: await closedPort() });
    const { status, body } = await getJson(`${rev.url}/reviews/0`);
    assert.equal(status, 200);
    assert.deepEqual((body as { reviews: { rating: unknown }[] }).reviews.map((r) => r.rating), [{ error: RATINGS_DOWN }, { error: RATINGS_DOWN }]);
  });

  it('reviews v3 gives up on a ratings service that does not answer (its 2.5 s timeout)', async () => {
    const hanging = await startRecorder([], { hang: true });
    const rev = await startApp('reviews', { SERVICE_VERSION: 'v3', RATINGS_HOSTNAME: '127.0.0.1', RATINGS_PORT: hanging.port });
    const { body } = await getJson(`${rev.url}/reviews/0`);
    assert.deepEqual((body as { reviews: { rating: unknown }[] }).reviews.map((r) => r.rating), [{ error: RATINGS_DOWN }, { error: RATINGS_DOWN }]);
  });

  it('productpage with details and reviews down shows Bookinfo\'s error texts and still answers 200', async () => {
    const down = await closedPort();
    const page = await startApp('productpage', { DETAILS_HOSTNAME: '127.0.0.1', DETAILS_PORT: down, REVIEWS_HOSTNAME: '127.0.0.1', REVIEWS_PORT: down });
    const { status, text } = await getText(`${page.url}/productpage`);
    assert.equal(status, 200);
    assert.match(text, /<p class="error">Error fetching product details<\/p>\s*<p>Sorry, product details are currently unavailable for this book\.<\/p>/);
    assert.match(text, /<p class="error">Error fetching product reviews<\/p>\s*<p>Sorry, product reviews are currently unavailable for this book\.<\/p>/);
    assert.deepEqual(await getJson(`${page.url}/api/v1/products/0/reviews`), { status: 500, body: { error: REVIEWS_DOWN } });
    assert.deepEqual(await getJson(`${page.url}/api/v1/products/0`), { status: 500, body: { error: DETAILS_DOWN } });
  });

  it('productpage tries reviews twice, as Bookinfo does', async () => {
    const ok = { status: 200, body: { id: '0', podname: 'p', clustername: 'null', reviews: [{ reviewer: 'Reviewer1', text: 'fine' }] } };
    const standIn = await startRecorder([{ status: 503, body: {} }, ok]);
    const page = await startApp('productpage', { DETAILS_HOSTNAME: '127.0.0.1', DETAILS_PORT: details.port, REVIEWS_HOSTNAME: '127.0.0.1', REVIEWS_PORT: standIn.port });
    const first = await getText(`${page.url}/productpage`);
    assert.match(first.text, /"fine"/);
    assert.equal(standIn.seen.length, 2);
    assert.doesNotMatch(first.text, /on cluster/, 'clustername "null" is not shown');

    standIn.replies = [{ status: 503, body: {} }];
    assert.deepEqual(await getJson(`${page.url}/api/v1/products/0/reviews`), { status: 503, body: { error: REVIEWS_DOWN } });
    assert.equal(standIn.seen.length, 4);
  });

  it('with HTTP_PROXY, calls go to the proxy by service name in absolute form, each with its own Host', async () => {
    const seen: string[] = [];
    const sidecar = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} host=${req.headers.host} end-user=${req.headers['end-user']}`);
      const body = req.url?.includes('/ratings/') ? { id: 0, ratings: { Reviewer1: 2, Reviewer2: 2 } }
        : req.url?.includes('/reviews/') ? { id: '0', podname: 'p', clustername: 'null', reviews: [] }
        : DETAILS;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((r) => sidecar.listen(0, '127.0.0.1', () => r()));
    try {
      const proxy = { HTTP_PROXY: `http://127.0.0.1:${(sidecar.address() as AddressInfo).port}` };
      const [page, rev] = await Promise.all([startApp('productpage', proxy), startApp('reviews', { ...proxy, SERVICE_VERSION: 'v3' })]);
      await getText(`${page.url}/productpage`, { cookie: 'session=jason' });
      await getText(`${rev.url}/reviews/0`, { 'end-user': 'jason' });
      assert.deepEqual(seen.sort(), [
        'GET http://details:9080/details/0 host=details:9080 end-user=jason',
        'GET http://ratings:9080/ratings/0 host=ratings:9080 end-user=jason',
        'GET http://reviews:9080/reviews/0 host=reviews:9080 end-user=jason',
      ]);
    } finally {
      sidecar.closeAllConnections();
      sidecar.close();
    }
  });

  it('reviews refuses an unknown SERVICE_VERSION', async () => {
    const { code, stderr } = await runToExit('reviews', { SERVICE_VERSION: 'v9' });
    assert.equal(code, 1);
    assert.match(stderr, /SERVICE_VERSION="v9"/);
  });

  const signals: { name: string; signal: NodeJS.Signals }[] = [{ name: 'SIGTERM', signal: 'SIGTERM' }, { name: 'SIGINT', signal: 'SIGINT' }];
  for (const { name, signal } of signals) {
    it(`each service exits 0 on ${name}`, async () => {
      const apps = await Promise.all(['details', 'ratings', 'reviews', 'productpage'].map((n) => startApp(n, {})));
      assert.deepEqual(await Promise.all(apps.map((a) => a.stop(signal))), [0, 0, 0, 0]);
    });
  }
});
