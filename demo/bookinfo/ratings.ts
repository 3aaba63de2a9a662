// ratings: the stars each reviewer gave, as Bookinfo's ratings service (samples/bookinfo/src/ratings)
// serves them from memory. It calls nothing. GET /ratings/<id> answers
// {"id": <id>, "ratings": {"Reviewer1": 5, "Reviewer2": 4}}; GET /health says it is up. Istio's
// fault-injection task delays or aborts the calls to this service for user jason.
//
//   PORT=9080 HOST=127.0.0.1 node --import tsx demo/bookinfo/ratings.ts

import { listenConfig, pathOf, sendJson, serve } from './shared.js';

await serve(listenConfig(process.env), (req, res) => {
  const path = pathOf(req);
  if (path === '/health') return sendJson(res, 200, { status: 'Ratings is healthy' });
  if (req.method === 'GET' && path.startsWith('/ratings/')) {
    const id = Number.parseInt(path.slice('/ratings/'.length), 10);
    if (Number.isNaN(id)) return sendJson(res, 400, { error: 'please provide numeric product ID' });
    return sendJson(res, 200, { id, ratings: { Reviewer1: 5, Reviewer2: 4 } });
  }
  return sendJson(res, 404, { error: 'not found' });
});
