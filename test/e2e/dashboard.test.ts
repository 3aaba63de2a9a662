// The dashboard as a user meets it, in Debian's Chromium driven by playwright-core: `isthmus up` runs the
// Bookinfo demo with its dashboard; without the session cookie only the login page is served (the API
// answers 401); the token `isthmus up` printed logs in; traffic through the ingress shows up as the
// graph's nodes and edges, with every edge label readable (none covering another, a node or a namespace
// box's border), and idle nodes (the gateway's Service) only with "Show idle nodes" ticked, an option the
// URL keeps; Istio's virtual-service-all-v1 moves the reviews traffic to v1 on the graph;
// a broken VirtualService shows its analyzer message (IST0101) in the config browser; a proxy's routes
// tab lists its `9080` route; the reviews node opens the reviews service's page (inbound traffic, its
// proxies in sync, its VirtualService and DestinationRule), and productpage-v1's workload page shows its
// calls to reviews. UPDATE_SCREENSHOTS=1 writes docs/images/dashboard-{graph,proxy,service}.png.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT, runIsthmus } from '../support/cli.js';
import { startUp, type RunningUp } from '../support/up-mesh.js';
import { waitFor } from '../support/wait.js';

const CHROMIUM = '/usr/bin/chromium';
const SAMPLES = fileURLToPath(new URL('../../../shared/corpus/istio-bookinfo/networking/', import.meta.url));
const SCREENSHOTS = process.env['UPDATE_SCREENSHOTS'] === '1';
/** The graph's metrics window in these tests, and the control plane's scrape interval: a routing change shows within seconds. */
const WINDOW = '10s';
const SCRAPE_MS = 1000;

/** A drawn element's box on the page. */
interface Box {
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

interface EdgeView {
  readonly source: string;
  readonly target: string;
  readonly rps: number;
}

describe('isthmus dashboard (Bookinfo, in Chromium)', { timeout: 300_000 }, () => {
  let mesh: RunningUp | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let url = '';
  let token = '';

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: the browser tests need Debian's Chromium (apt-get install chromium; .ci/run installs it)`);
    execFileSync(process.execPath, ['scripts/build-dashboard.mjs', '--quiet'], { cwd: ROOT });
    mesh = await startUp(150_000, { metricsIntervalMs: SCRAPE_MS });
    const d = mesh.summary.dashboard;
    assert.ok(d !== undefined, `isthmus up printed no dashboard: ${JSON.stringify(mesh.summary)}`);
    ({ url, token } = d);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 60_000,
    });
    page = await (await browser.newContext({ viewport: { width: 1500, height: 900 } })).newPage();
    page.setDefaultTimeout(30_000);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    mesh?.dispose();
  });

  async function traffic(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const r = await fetch(`${mesh?.summary.ingress ?? ''}/productpage`);
      assert.equal(r.status, 200, `GET /productpage through the gateway: ${r.status}`);
      await r.arrayBuffer();
    }
  }

  async function edges(): Promise<EdgeView[]> {
    return page.$$eval('[data-testid="edge"]', (els) =>
      els.map((e) => ({ source: e.getAttribute('data-source') ?? '', target: e.getAttribute('data-target') ?? '', rps: Number(e.getAttribute('data-rps')) })),
    );
  }

  const rpsTo = (es: readonly EdgeView[], source: string, target: string): number => es.find((e) => e.source === source && e.target === target)?.rps ?? 0;

  /**
   * What a reader would see collide among the drawn edge labels: a label over another label or a node, a
   * label's text outside its background, a label across a namespace box's border. Empty when readable.
   */
  async function labelCollisions(): Promise<string[]> {
    // Only the boxes are read in the page (functions defined in there would need the test bundler's helpers).
    const drawn = await page.getByTestId('graph-svg').evaluate((svg) => ({
      labels: [...svg.querySelectorAll('[data-testid="edge-label"]')].map((el) => ({
        id: el.getAttribute('data-edge') ?? '',
        box: [...el.querySelectorAll('rect')].map((r) => r.getBoundingClientRect().toJSON() as Box)[0],
        texts: [...el.querySelectorAll('text')].map((t) => ({ text: t.textContent ?? '', box: t.getBoundingClientRect().toJSON() as Box })),
      })),
      nodes: [...svg.querySelectorAll('[data-testid^="node-"]')].map((el) => ({ id: el.getAttribute('data-testid') ?? '', boxes: [...el.querySelectorAll('.shape, text')].map((r) => r.getBoundingClientRect().toJSON() as Box) })),
      namespaces: [...svg.querySelectorAll('.namespace-box rect')].map((r) => r.getBoundingClientRect().toJSON() as Box),
    }));
    const overlap = (a: Box, b: Box): boolean => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    const inside = (a: Box, b: Box): boolean => a.left >= b.left && a.right <= b.right && a.top >= b.top && a.bottom <= b.bottom;
    const found: string[] = drawn.labels.length === 0 ? ['no edge labels drawn'] : [];
    drawn.labels.forEach((a, i) => {
      const box = a.box;
      if (box === undefined) return void found.push(`${a.id}: no background`);
      for (const t of a.texts) if (!inside(t.box, box)) found.push(`${a.id}: text "${t.text}" outside its background`);
      for (const b of drawn.labels.slice(i + 1)) if (b.box !== undefined && overlap(box, b.box)) found.push(`${a.id}: over the label of ${b.id}`);
      for (const n of drawn.nodes) if (n.boxes.some((r) => overlap(box, r))) found.push(`${a.id}: over ${n.id}`);
      for (const ns of drawn.namespaces) if (overlap(box, ns) && !inside(box, ns)) found.push(`${a.id}: across a namespace box's border`);
    });
    return found;
  }

  async function screenshot(name: string): Promise<void> {
    if (!SCREENSHOTS) return;
    mkdirSync(join(ROOT, 'docs/images'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'docs/images', name), fullPage: true });
  }

  it('serves nothing but the login page without a session', async () => {
    const api = await fetch(`${url}/api/graph`);
    assert.equal(api.status, 401);
    const graph = await fetch(`${url}/graph`, { redirect: 'manual' });
    assert.equal(graph.status, 302);
    assert.equal(graph.headers.get('location'), '/login?next=%2Fgraph');
    assert.equal((await fetch(`${url}/assets/app.js`, { redirect: 'manual' })).status, 302);
    await page.goto(`${url}/graph`);
    await page.getByTestId('token-input').waitFor();
    assert.equal(new URL(page.url()).pathname, '/login');
  });

  it('refuses a wrong token, and logs in with the token isthmus up printed', async () => {
    await page.getByTestId('token-input').fill('not-the-token');
    await page.getByTestId('login-button').click();
    await waitFor(async () => ((await page.getByTestId('login-error').textContent()) ?? '').includes('Invalid token'), 'the login page to refuse a wrong token', 10_000, 100);
    await page.getByTestId('token-input').fill(token);
    await page.getByTestId('login-button').click();
    await page.waitForURL((u) => u.pathname === '/graph', { timeout: 15_000 });
    const cookie = (await page.context().cookies()).find((c) => c.name === 'isthmus-dashboard-session');
    assert.ok(cookie !== undefined && cookie.httpOnly && cookie.sameSite === 'Strict', JSON.stringify(cookie));
  });

  it("shows the demo's workloads and services, and edges with traffic once requests went through the ingress", async () => {
    await traffic(30);
    await page.goto(`${url}/graph?window=${WINDOW}`);
    const wanted = ['productpage v1', 'reviews v1', 'reviews v2', 'reviews v3', 'ratings v1', 'details v1', 'productpage', 'reviews', 'ratings', 'details'];
    const calls: [string, string][] = [
      ['workload:default/productpage-v1', 'service:default/reviews'],
      ['workload:default/productpage-v1', 'service:default/details'],
      ['service:default/reviews', 'workload:default/reviews-v1'],
      ['service:default/reviews', 'workload:default/reviews-v2'],
      ['service:default/reviews', 'workload:default/reviews-v3'],
      ['service:default/ratings', 'workload:default/ratings-v1'],
    ];
    let last: EdgeView[] = [];
    let labels: string[] = [];
    await waitFor(
      async () => {
        labels = await page.$$eval('[data-testid^="node-"]', (els) => els.map((e) => e.getAttribute('data-label') ?? ''));
        last = await edges();
        return wanted.every((l) => labels.includes(l)) && calls.every(([s, t]) => rpsTo(last, s, t) > 0);
      },
      'the graph to show every Bookinfo node and the calls between them',
      60_000,
      500,
    ).catch((e: Error) => assert.fail(`${e.message}\nnodes: ${labels.join(', ')}\nedges: ${JSON.stringify(last)}`));
    assert.ok((await page.getByTestId('graph-updated').textContent())?.includes('every 5s'));
    assert.deepEqual(await labelCollisions(), [], 'edge labels as drawn');
    await screenshot('dashboard-graph.png');
  });

  it('hides idle nodes unless "Show idle nodes" is ticked, and keeps the choice in the URL', async () => {
    const idleNodes = page.locator('[data-testid^="node-"].idle');
    const gatewayService = page.getByTestId('node-service:istio-system/istio-ingressgateway');
    const box = page.getByTestId('graph-idle-nodes');
    assert.equal(await box.isChecked(), false);
    assert.equal(await idleNodes.count(), 0, 'no idle node by default');
    assert.equal(await page.getByTestId('node-workload:istio-system/istio-ingressgateway').count(), 1, "the gateway's workload, with traffic");
    await box.check();
    await gatewayService.waitFor();
    assert.match((await gatewayService.getAttribute('class')) ?? '', /\bidle\b/);
    assert.equal(new URL(page.url()).searchParams.get('idleNodes'), 'true');
    assert.deepEqual(await labelCollisions(), [], 'edge labels with idle nodes shown');
    await page.reload();
    await gatewayService.waitFor();
    assert.equal(await box.isChecked(), true, 'the option survives a reload');
    await box.uncheck();
    await waitFor(async () => (await idleNodes.count()) === 0, 'the idle nodes to go', 10_000, 100);
    assert.equal(new URL(page.url()).searchParams.has('idleNodes'), false);
  });

  it('shows the reviews traffic moving to v1 after virtual-service-all-v1 is applied', async () => {
    const r = await runIsthmus(['apply', '--control-plane', mesh?.cp ?? '', '-f', SAMPLES + 'destination-rule-all.yaml', '-f', SAMPLES + 'virtual-service-all-v1.yaml']);
    assert.equal(r.code, 0, r.stderr);
    let last: EdgeView[] = [];
    // The graph's window is 10 s: once it holds only requests sent after the push, v2 and v3 have no traffic.
    await waitFor(
      async () => {
        await traffic(5);
        last = await edges();
        const to = (v: string): number => rpsTo(last, 'service:default/reviews', `workload:default/reviews-${v}`);
        return to('v1') > 0 && to('v2') === 0 && to('v3') === 0;
      },
      'the reviews edges to show v1 only',
      90_000,
      1000,
    ).catch((e: Error) => assert.fail(`${e.message}\nedges: ${JSON.stringify(last)}`));
  });

  it("lists a broken VirtualService with the analyzer's IST0101 message, and shows its YAML", async () => {
    const broken = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: broken-route, namespace: default}
spec:
  hosts: [broken.example.com]
  http:
  - route:
    - destination: {host: no-such-service}
`;
    const r = await runIsthmus(['apply', '--control-plane', mesh?.cp ?? '', '-f', '-'], { input: broken });
    assert.equal(r.code, 0, r.stderr);
    await page.getByTestId('nav-config').click();
    const row = page.locator('[data-testid="config-row"][data-kind="VirtualService"][data-name="broken-route"]');
    const message = row.locator('[data-testid="config-message"][data-code="IST0101"]');
    await message.waitFor();
    assert.match((await message.textContent()) ?? '', /no-such-service/);
    assert.equal(await row.locator('[data-testid="message-badge"][data-level="Error"]').count(), 1);
    await row.getByRole('link', { name: 'broken-route' }).click();
    await page.getByTestId('config-yaml').waitFor();
    assert.match((await page.getByTestId('config-yaml').textContent()) ?? '', /host: no-such-service/);
  });

  it("opens a proxy's routes tab, with its 9080 route", async () => {
    await page.getByTestId('nav-proxies').click();
    const link = page.locator('[data-testid="proxy-row"]').filter({ hasText: 'productpage-v1' }).getByRole('link');
    await link.click();
    await page.getByTestId('tab-routes').click();
    await page.waitForURL((u) => u.pathname.endsWith('/routes'));
    const rows = page.locator('[data-testid="proxy-table"][data-section="routes"] [data-testid="proxy-table-row"]');
    await rows.first().waitFor();
    const names = await rows.evaluateAll((els) => els.map((e) => e.querySelector('td')?.textContent ?? ''));
    assert.ok(names.includes('9080'), `route names: ${names.join(', ')}`);
    await screenshot('dashboard-proxy.png');
  });

  /** The values of a chart's line (data-values: comma-separated, empty where there is no data). */
  async function chartValues(chart: string, series: string): Promise<number[]> {
    const raw = await page.locator(`[data-testid="chart"][data-chart="${chart}"] [data-testid="chart-series"][data-label="${series}"]`).getAttribute('data-values');
    return (raw ?? '').split(',').filter((v) => v !== '').map(Number);
  }

  it("opens the reviews service from the graph: inbound traffic, its proxies in sync, its VirtualService and DestinationRule", async () => {
    await page.goto(`${url}/graph?window=${WINDOW}`);
    await page.getByTestId('node-service:default/reviews').click();
    await page.waitForURL((u) => u.pathname === '/services/default/reviews');
    await page.getByTestId('page-window').selectOption('1m');
    await page.waitForURL((u) => u.search === '?window=1m');
    const proxies = page.locator('[data-testid="mesh-proxy-row"]');
    let seen = '';
    await waitFor(
      async () => {
        await traffic(2);
        const rps = await chartValues('inbound-requests', 'requests/s');
        const rows = await proxies.evaluateAll((els) => els.map((e) => `${e.getAttribute('data-id') ?? ''}=${e.getAttribute('data-sync') ?? ''}`));
        seen = `inbound rps ${JSON.stringify(rps)}; proxies ${rows.join(' ')}`;
        const synced = ['v1', 'v2', 'v3'].every((v) => rows.some((r) => r.startsWith(`reviews-${v}-`) && r.endsWith('=SYNCED')));
        return rps.some((v) => v > 0) && rows.length === 3 && synced;
      },
      'the reviews page to chart inbound requests and list the reviews-v1/v2/v3 proxies as SYNCED',
      60_000,
      500,
    ).catch((e: Error) => assert.fail(`${e.message}\n${seen}`));
    for (const kind of ['VirtualService', 'DestinationRule']) {
      const row = page.locator(`[data-testid="applied-config-row"][data-kind="${kind}"][data-name="reviews"]`);
      assert.equal(await row.count(), 1, `the ${kind} for reviews is listed`);
      assert.equal(await row.getByRole('link').getAttribute('href'), `/config/${encodeURIComponent(`networking.istio.io/${kind}/default/reviews`)}`);
    }
    await screenshot('dashboard-service.png');
  });

  it("shows productpage-v1's calls to reviews on its workload page", async () => {
    await page.getByTestId('nav-workloads').click();
    await page.locator('[data-testid="workload-row"][data-name="productpage-v1"]').getByRole('link', { name: 'productpage-v1' }).click();
    await page.waitForURL((u) => u.pathname === '/workloads/default/productpage-v1');
    const toReviews = page.locator('[data-testid="peers-table"][data-direction="outbound"] [data-testid="peer-row"][data-id="service:default/reviews"]');
    await waitFor(
      async () => {
        await traffic(2);
        return (await toReviews.count()) === 1 && Number(await toReviews.getAttribute('data-rps')) > 0 && (await chartValues('outbound-requests', 'requests/s')).some((v) => v > 0);
      },
      'the productpage-v1 page to show outbound requests to reviews',
      60_000,
      500,
    );
  });
});
