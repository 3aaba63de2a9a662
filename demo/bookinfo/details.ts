// details: the book's publishing details, as Bookinfo's details service (samples/bookinfo/src/details)
// serves them. It calls nothing. GET /details/<id> answers one fixed book for any numeric id;
// GET /health says it is up.
//
//   PORT=9080 HOST=127.0.0.1 node --import tsx demo/bookinfo/details.ts

import { listenConfig, pathOf, sendJson, serve } from './shared.js';

function bookDetails(id: number): Record<string, unknown> {
  return {
    id,
    author: 'William Shakespeare',
    year: 1595,
    type: 'paperback',
    pages: 200,
    publisher: 'PublisherA',
    language: 'English',
    'ISBN-10': '1234567890',
    'ISBN-13': '123-1234567890',
  };
}

await serve(listenConfig(process.env), (req, res) => {
  const path = pathOf(req);
  if (path === '/health') return sendJson(res, 200, { status: 'Details is healthy' });
  // Bookinfo serves everything under /details and takes the last path segment as the id.
  if (path === '/details' || path.startsWith('/details/')) {
    const last = path.split('/').pop() ?? '';
    if (!/^-?\d+$/.test(last)) return sendJson(res, 400, { error: 'please provide numeric product id' });
    return sendJson(res, 200, bookDetails(Number(last)));
  }
  return sendJson(res, 404, { error: 'not found' });
});
