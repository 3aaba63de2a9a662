// reviews: two reviews of the book, in Bookinfo's three versions (samples/bookinfo/src/reviews), chosen
// by SERVICE_VERSION:
//   v1  the reviews only; never calls ratings
//   v2  asks ratings for the stars and shows them black; waits up to 10 s for ratings
//   v3  asks ratings for the stars and shows them red; waits up to 2.5 s for ratings
// (the two timeouts are Bookinfo's, and Istio's fault-injection and timeout tasks depend on them).
// When ratings fails or does not answer in time, each review carries
// {"error": "Ratings service is currently unavailable"} instead of stars, and reviews still answers 200.
// GET /reviews/<id>; GET /health. The JSON has Bookinfo's shape, including "podname" (HOSTNAME, as a pod
// sees its name) and "clustername" (CLUSTER_NAME; the string "null" when unset, as Bookinfo's Java
// service writes it and its product page expects).
//
//   SERVICE_VERSION=v2 RATINGS_HOSTNAME=127.0.0.1 RATINGS_PORT=9082 PORT=9081 \
//     node --import tsx demo/bookinfo/reviews.ts

import { hostname } from 'node:os';
import { createHttpClient, forwardHeaders, listenConfig, pathOf, sendJson, serve, serviceUrl } from './shared.js';

interface StarStyle {
  readonly color: 'black' | 'red';
  readonly ratingsTimeoutMs: number;
}

const VERSIONS: Readonly<Record<string, StarStyle | undefined>> = {
  v1: undefined,
  v2: { color: 'black', ratingsTimeoutMs: 10_000 },
  v3: { color: 'red', ratingsTimeoutMs: 2_500 },
};

const REVIEWS = [
  { reviewer: 'Reviewer1', text: 'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!' },
  { reviewer: 'Reviewer2', text: 'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.' },
] as const;

const RATINGS_UNAVAILABLE = 'Ratings service is currently unavailable';

const env = process.env;
const version = env['SERVICE_VERSION'] ?? 'v1';
if (!(version in VERSIONS)) {
  console.error(`SERVICE_VERSION="${version}": reviews comes in v1 (no stars), v2 (black stars) or v3 (red stars)`);
  process.exit(1);
}
const style = VERSIONS[version];
const ratingsUrl = serviceUrl(env, 'ratings');
const podname = env['HOSTNAME'] ?? hostname();
const clustername = env['CLUSTER_NAME'] ?? 'null';
const client = createHttpClient();

/** Stars per reviewer from the ratings service, or undefined when it could not say. */
async function fetchStars(id: number, headers: Record<string, string>, timeoutMs: number): Promise<Record<string, unknown> | undefined> {
  const result = await client.getJson(`${ratingsUrl}/ratings/${id}`, headers, timeoutMs);
  if (result.kind === 'failed' || result.status !== 200) {
    const why = result.kind === 'failed' ? result.reason : `status ${result.status}`;
    console.error(`Error: unable to contact ${ratingsUrl}/ratings: ${why}`);
    return undefined;
  }
  const body = result.body;
  if (typeof body !== 'object' || body === null || !('ratings' in body)) return undefined;
  const ratings = body.ratings;
  return typeof ratings === 'object' && ratings !== null ? (ratings as Record<string, unknown>) : undefined;
}

async function bookReviews(id: number, headers: Record<string, string>): Promise<Record<string, unknown>> {
  const stars = style === undefined ? undefined : await fetchStars(id, headers, style.ratingsTimeoutMs);
  return {
    id: String(id),
    podname,
    clustername,
    reviews: REVIEWS.map(({ reviewer, text }) => {
      if (style === undefined) return { reviewer, text };
      const n = stars?.[reviewer];
      const rating = Number.isInteger(n) ? { stars: n, color: style.color } : { error: RATINGS_UNAVAILABLE };
      return { reviewer, text, rating };
    }),
  };
}

await serve(listenConfig(env), async (req, res) => {
  const path = pathOf(req);
  if (path === '/health') return sendJson(res, 200, { status: 'Reviews is healthy' });
  const m = /^\/reviews\/(-?\d+)$/.exec(path);
  if (req.method === 'GET' && m?.[1] !== undefined) {
    return sendJson(res, 200, await bookReviews(Number.parseInt(m[1], 10), forwardHeaders(req.headers)));
  }
  return sendJson(res, 404, { error: 'not found' });
}, () => client.close());
