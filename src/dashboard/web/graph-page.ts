// The service graph page: the versioned-app graph drawn as SVG from /api/graph, refreshed every 5 s.
// Nodes: workloads as circles labelled `app vN`, services as triangles, grouped in namespace boxes and
// app boxes; edges labelled with requests/s (and each version's share of a service's traffic), error
// rate and p95 latency; mTLS edges are solid with a lock, plain-text ones dashed.
// A service or workload node links to its page.
// Stable selectors for tests: node-<id>, edge elements carry data-source/-target/-rps.

import type { GraphResponse } from '../shared/api-types.js';
import { getJson } from './api.js';
import { h, s, win, type El, type InputEl } from './dom.js';
import { edgeHealth, edgeLabel, edgeShares, nodeLabel } from './format.js';
import { layoutGraph } from './graph-layout.js';
import { nodePath } from './routes.js';

export const REFRESH_MS = 5000;
const WINDOWS = ['10s', '30s', '1m', '5m', '10m'];

function lock(x: number, y: number): El {
  // A padlock: shackle arc over a body, 10 x 12 px.
  return s('g', { class: 'lock', transform: `translate(${x - 5},${y - 14})`, 'data-testid': 'mtls-lock' },
    s('path', { d: 'M2,6 V4 a3,3 0 0 1 6,0 V6', fill: 'none' }),
    s('rect', { x: 0, y: 6, width: 10, height: 7, rx: 1.5 }),
  );
}

function nodeShape(kind: string, x: number, y: number): El {
  if (kind === 'service') return s('path', { class: 'shape', d: `M${x},${y - 20} L${x + 19},${y + 14} L${x - 19},${y + 14} Z` });
  if (kind === 'unknown') return s('rect', { class: 'shape', x: x - 16, y: y - 16, width: 32, height: 32, rx: 4 });
  return s('circle', { class: 'shape', cx: x, cy: y, r: 18 });
}

export function drawGraph(g: GraphResponse): El {
  const layout = layoutGraph(g.nodes, g.edges);
  const shares = edgeShares(g.nodes, g.edges);
  const svg = s('svg', { 'data-testid': 'graph-svg', width: layout.width, height: layout.height, viewBox: `0 0 ${layout.width} ${layout.height}`, role: 'img', 'aria-label': 'service graph' });
  svg.append(
    s('defs', {},
      s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow' })),
    ),
  );
  for (const b of layout.namespaces) {
    svg.append(s('g', { class: 'namespace-box', 'data-testid': `namespace-${b.label}` },
      s('rect', { x: b.x, y: b.y, width: b.width, height: b.height, rx: 10 }),
      s('text', { x: b.x + 12, y: b.y + 22 }, b.label),
    ));
  }
  for (const b of layout.apps) {
    svg.append(s('g', { class: 'app-box', 'data-testid': `app-${b.label}` },
      s('rect', { x: b.x, y: b.y, width: b.width, height: b.height, rx: 8 }),
      s('text', { x: b.x + 8, y: b.y + 14 }, b.label),
    ));
  }
  for (const p of layout.edges) {
    const e = p.edge;
    const label = edgeLabel(e, shares.get(e.id));
    const g1 = s('g', {
      class: `edge ${edgeHealth(e)}${e.mtls ? ' mtls' : ' plaintext'}`,
      'data-testid': 'edge',
      'data-source': e.source,
      'data-target': e.target,
      'data-rps': e.requestsPerSecond,
      'data-mtls': String(e.mtls),
    },
      s('path', { d: p.path, 'marker-end': 'url(#arrow)' }),
      s('text', { x: p.labelX, y: p.labelY, 'text-anchor': 'middle', 'data-testid': 'edge-label' }, label),
      e.mtls && lock(p.labelX - label.length * 3.1 - 10, p.labelY + 4),
      s('title', {}, `${e.source} → ${e.target} (${e.protocol}${e.mtls ? `, mTLS ${e.mtlsPercent?.toFixed(0) ?? ''}%` : ', no mTLS'})\n${label}`),
    );
    svg.append(g1);
  }
  for (const p of layout.nodes) {
    const n = p.node;
    const label = nodeLabel(n);
    const node = s('g', { class: `node ${n.kind}${n.idle === true ? ' idle' : ''}`, 'data-testid': `node-${n.id}`, 'data-label': label, 'data-kind': n.kind },
      nodeShape(n.kind, p.x, p.y),
      s('text', { x: p.x, y: p.y + 36, 'text-anchor': 'middle' }, label),
      s('title', {}, `${n.kind} ${n.namespace === '' ? '' : `${n.namespace}/`}${n.name}${n.host !== undefined ? ` (${n.host})` : ''}${n.idle === true ? ' — no traffic in the window' : ''}`),
    );
    // The app's click handler follows a[data-link], SVG links included.
    const path = nodePath(n.id);
    svg.append(path === undefined ? node : s('a', { href: path, 'data-link': '', class: 'node-link' }, node));
  }
  return svg;
}

function legend(): El {
  return h('div', { class: 'legend' },
    h('span', {}, '● workload (app version)'),
    h('span', {}, '▲ service'),
    h('span', {}, '━ mTLS (with a lock)'),
    h('span', {}, '┅ plaintext'),
    h('span', { class: 'healthy' }, 'ok'),
    h('span', { class: 'degraded' }, '> 0.1% errors'),
    h('span', { class: 'failure' }, '> 20% errors'),
  );
}

/** Renders the page into `main`; returns the function that stops its refreshing. */
export function graphPage(main: El): () => void {
  const params = new URLSearchParams(win.location.search);
  const windowParam = params.get('window') ?? '1m';
  const namespace = params.get('namespace') ?? '';
  const select = h('select', { 'data-testid': 'graph-window', 'aria-label': 'metrics window' }, ...[...new Set([...WINDOWS, windowParam])].map((w) => {
    const o = h('option', { value: w }, `last ${w}`);
    if (w === windowParam) o.setAttribute('selected', '');
    return o;
  }));
  select.addEventListener('change', () => {
    const next = new URLSearchParams(win.location.search);
    next.set('window', (select as InputEl).value);
    win.location.assign(`/graph?${next.toString()}`);
  });
  const status = h('span', { class: 'status', 'data-testid': 'graph-updated' }, 'loading…');
  const canvas = h('div', { class: 'graph-canvas', 'data-testid': 'graph' });
  main.replaceChildren(
    h('div', { class: 'toolbar' }, h('h1', {}, 'Service graph'), select, namespace !== '' && h('span', { class: 'chip' }, `namespace ${namespace}`), status),
    canvas,
    legend(),
  );
  let stopped = false;
  const refresh = async (): Promise<void> => {
    const q = new URLSearchParams({ window: windowParam, ...(namespace !== '' ? { namespace } : {}) });
    try {
      const g = await getJson<GraphResponse>(`/api/graph?${q.toString()}`);
      if (stopped) return;
      canvas.replaceChildren(g.nodes.length === 0 ? h('p', { class: 'empty', 'data-testid': 'graph-empty' }, 'No traffic in the window yet: send some requests through the mesh.') : drawGraph(g));
      status.textContent = `${g.edges.length} edges · updated ${new Date(g.timestamp).toLocaleTimeString()} · every ${REFRESH_MS / 1000}s`;
      canvas.setAttribute('data-timestamp', g.timestamp);
    } catch (e) {
      if (!stopped) status.textContent = `update failed: ${e instanceof Error ? e.message : String(e)}`;
    }
  };
  void refresh();
  const timer = setInterval(() => void refresh(), REFRESH_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
