// The product page's HTML: the index page and the book page, as plain functions from what productpage
// fetched to a string. Same content and the same messages as Bookinfo's templates
// (samples/bookinfo/src/productpage/templates), in a smaller page: inline CSS instead of Tailwind, a
// <details> sign-in form instead of a script-driven dialog. Every value from a request or another service
// is escaped; only the product description (our own constant) is HTML.

/** The one book in the shop. */
export interface Product {
  readonly id: number;
  readonly title: string;
  readonly descriptionHtml: string;
}

/** What productpage got from a backend: its status and JSON body (Bookinfo's `(status, json)` pairs). */
export interface Fetched {
  readonly status: number;
  readonly body: unknown;
}

export interface ProductPageView {
  readonly user: string | undefined;
  readonly product: Product;
  readonly details: Fetched;
  readonly reviews: Fetched;
}

const STYLE = `
body { margin: 0; font-family: system-ui, sans-serif; color: #1f2937; }
nav { display: flex; justify-content: space-between; align-items: center; background: #1f2937; color: #f9fafb; padding: 0.75rem 2rem; }
nav a { color: inherit; }
nav form { display: flex; gap: 0.5rem; margin-top: 0.5rem; }
main, .index { max-width: 60rem; margin: 0 auto; padding: 1rem 2rem; }
h1 { color: #1e3a8a; font-size: 2.5rem; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 0.4rem 1rem 0.4rem 0; border-bottom: 1px solid #e5e7eb; }
.reviews { display: flex; flex-wrap: wrap; gap: 2rem; }
.review { flex: 1 1 20rem; background: #eff6ff; padding: 1rem 1.5rem; }
.stars { font-size: 1.4rem; letter-spacing: 0.1rem; }
blockquote { font-size: 1.2rem; font-weight: 600; margin: 1rem 0; }
.served-by { font-family: monospace; color: #4b5563; }
.error { color: #ef4444; font-size: 1.4rem; }
`;

export function escapeHtml(value: unknown): string {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

function layout(body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Simple Bookstore App</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/** GET /: what the shop is made of, and links into it. `services` maps each service to its base URL. */
export function renderIndex(services: Readonly<Record<'details' | 'reviews' | 'ratings', string>>): string {
  return layout(`<div class="index">
<h3>Hello! This is a simple bookstore application consisting of three services as shown below</h3>
<table>
<thead><tr><th>service</th><th>called at</th><th>calls</th></tr></thead>
<tbody>
<tr><td>productpage</td><td>(this page)</td><td>details, reviews</td></tr>
<tr><td>details</td><td>${escapeHtml(services.details)}/details</td><td></td></tr>
<tr><td>reviews</td><td>${escapeHtml(services.reviews)}/reviews</td><td>ratings</td></tr>
<tr><td>ratings</td><td>${escapeHtml(services.ratings)}/ratings</td><td></td></tr>
</tbody>
</table>
<p>Click on one of the links below to auto generate a request to the backend as a real user or a tester</p>
<ul>
<li><a href="/productpage?u=normal">Normal user</a></li>
<li><a href="/productpage?u=test">Test user</a></li>
</ul>
</div>`);
}

/** GET /productpage: the book, its details and its reviews, or Bookinfo's error texts in their place. */
export function renderProductPage(view: ProductPageView): string {
  return layout(`${navigation(view.user)}
<main>
<section class="product">
<h1>${escapeHtml(view.product.title)}</h1>
<p>${view.product.descriptionHtml}</p>
</section>
<section class="details">
${detailsSection(view.details)}
</section>
<section>
${reviewsSection(view.reviews)}
</section>
</main>`);
}

function navigation(user: string | undefined): string {
  const account = user !== undefined
    ? `<div class="user">Signed in as <strong>${escapeHtml(user)}</strong> · <a href="logout">Sign out</a></div>`
    : `<details class="sign-in"><summary>Sign in</summary>
<form method="post" action="login" name="login_form">
<input name="username" placeholder="Username" required>
<input name="passwd" type="password" placeholder="Password">
<button type="submit">Sign in</button>
</form>
</details>`;
  return `<nav><a href="/productpage"><strong>BookInfo Sample</strong></a>${account}</nav>`;
}

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

function errorSection(title: string, body: unknown): string {
  const message = field(body, 'error');
  return `<p class="error">${title}</p>${message === undefined ? '' : `\n<p>${escapeHtml(message)}</p>`}`;
}

function detailsSection(details: Fetched): string {
  if (details.status !== 200) return errorSection('Error fetching product details', details.body);
  const cell = (name: string): string => `<td>${escapeHtml(field(details.body, name) ?? '')}</td>`;
  return `<h4>Book Details</h4>
<table>
<thead><tr><th>ISBN-10</th><th>Publisher</th><th>Pages</th><th>Type</th><th>Language</th></tr></thead>
<tbody><tr>${cell('ISBN-10')}${cell('publisher')}${cell('pages')}${cell('type')}${cell('language')}</tr></tbody>
</table>`;
}

function reviewsSection(reviews: Fetched): string {
  if (reviews.status !== 200) return errorSection('Error fetching product reviews', reviews.body);
  const list = field(reviews.body, 'reviews');
  const podname = field(reviews.body, 'podname');
  const clustername = field(reviews.body, 'clustername');
  const servedBy = `Reviews served by: ${escapeHtml(podname ?? '')}${
    clustername !== undefined && clustername !== 'null' ? ` on cluster ${escapeHtml(clustername)}` : ''
  }`;
  const items = (Array.isArray(list) ? list : []).map((review: unknown) => `<article class="review">
${rating(field(review, 'rating'))}
<blockquote>"${escapeHtml(field(review, 'text') ?? '')}"</blockquote>
<div class="reviewer"><strong>${escapeHtml(field(review, 'reviewer') ?? '')}</strong></div>
<div class="served-by">${servedBy}</div>
</article>`);
  return `<h4>Book Reviews</h4>
<div class="reviews">
${items.join('\n')}
</div>`;
}

/**
 * Filled stars then empty ones up to five, in the colour reviews chose (v2 black, v3 red); the error text
 * when ratings was unavailable; nothing for reviews v1, which sends no rating. The star spans keep the
 * class names of Bookinfo's earlier Bootstrap page (glyphicon-star / glyphicon-star-empty), which scripts
 * and tutorials grep for.
 */
function rating(value: unknown): string {
  if (value === undefined) return '';
  const stars = field(value, 'stars');
  if (typeof stars === 'number' && Number.isInteger(stars) && stars > 0) {
    const n = Math.min(stars, 5);
    const colorField = field(value, 'color');
    const color = typeof colorField === 'string' && /^[a-z]+$/i.test(colorField) ? colorField : 'black';
    const filled = '<span class="glyphicon glyphicon-star">★</span>'.repeat(n);
    const empty = '<span class="glyphicon glyphicon-star-empty">☆</span>'.repeat(5 - n);
    return `<div class="stars" data-color="${color}" style="color: ${color}" aria-label="${n} out of 5 stars">${filled}${empty}</div>`;
  }
  const error = field(value, 'error');
  return error === undefined ? '' : `<p class="error">${escapeHtml(error)}</p>`;
}
