// The service graph page: the versioned-app graph drawn as SVG from /api/graph, refreshed every 5 s.
// Nodes: workloads as circles labelled `app vN`, services as triangles, grouped in namespace boxes and
// app boxes; edges labelled with requests/s (and each version's share of a service's traffic), error
// rate and p95 latency, each label on its own edge over a light background (placed by graph-layout.ts);
// mTLS edges are solid with a lock, plain-text ones dashed. Idle nodes (services without traffic in the
// window) are hidden unless "Show idle nodes" is ticked (`?idleNodes=true`, see graph-options.ts).
// A service or workload node links to its page.
// Stable selectors for tests: node-<id>, edge elements carry data-source/-target/-rps, edge-label
// elements data-edge (the edge's id), graph-idle-nodes is the checkbox.

import type { GraphResponse } from '../shared/api-types.js';
import { getJson } from './api.js';
import { doc, h, s, win, type El, type InputEl } from './dom.js';
import { edgeHealth, nodeLabel } from './format.js';
import { graphApiQuery, parseGraphOptions, visibleGraph, withGraphOption } from './graph-options.js';
import { LABEL_LINE, LABEL_PAD_X, LABEL_PAD_Y, NAME_BASELINE, labelIndent, layoutGraph, type PlacedEdge } from './graph-layout.js';
import { nodePath } from './routes.js';
import { estimateTextWidth, type TextWidth } from './text-width.js';

export const REFRESH_MS = 5000;
const WINDOWS = ['10s', '30s', '1m', '5m', '10m'];

/** A padlock (shackle arc over a body), 10 x 13 px from its top-left corner. */
function lock(x: number, y: number): El {
  return s('g', { class: 'lock', transform: `translate(${x},${y})`, 'data-testid': 'mtls-lock' },
    s('path', { d: 'M2,6 V4 a3,3 0 0 1 6,0 V6', fill: 'none' }),
    s('rect', { x: 0, y: 6, width: 10, height: 7, rx: 1.5 }),
  );
}

/** Text widths in the page's own font, from a canvas (the estimate where there is none). */
function browserTextWidth(): TextWidth {
  const ctx = doc.createElement('canvas').getContext('2d');
  if (ctx === null) return estimateTextWidth;
  const family = win.getComputedStyle(doc.body).fontFamily;
  return (text, font) => {
    ctx.font = `${font.bold ? 600 : 400} ${font.sizePx}px ${family}`;
    return ctx.measureText(text).width;
  };
}

function edgeLabelEl(p: PlacedEdge): El {
  const { edge: e, label: l } = p;
  const x = l.x + labelIndent(l.lock);
  return s('g', { class: `edge-label ${edgeHealth(e)}`, 'data-testid': 'edge-label', 'data-edge': e.id, 'data-clear': String(l.clear) },
    s('rect', { x: l.x, y: l.y, width: l.width, height: l.height, rx: 3 }),
    l.lock && lock(l.x + LABEL_PAD_X, l.y + LABEL_PAD_Y),
    // 11px text: the glyphs take the 10 px above the baseline and 3 below, one 13 px line each.
    ...l.lines.map((line, i) => s('text', { x, y: l.y + LABEL_PAD_Y + i * LABEL_LINE + 10 }, line)),
  );
}

function nodeShape(kind: string, x: number, y: number): El {
  if (kind === 'service') return s('path', { class: 'shape', d: `M${x},${y - 20} L${x + 19},${y + 14} L${x - 19},${y + 14} Z` });
  if (kind === 'unknown') return s('rect', { class: 'shape', x: x - 16, y: y - 16, width: 32, height: 32, rx: 4 });
  return s('circle', { class: 'shape', cx: x, cy: y, r: 18 });
}

export function drawGraph(g: GraphResponse, measure: TextWidth = estimateTextWidth): El {
  const layout = layoutGraph(g.nodes, g.edges, measure);
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
    svg.append(s('g', {
      class: `edge ${edgeHealth(e)}${e.mtls ? ' mtls' : ' plaintext'}`,
      'data-testid': 'edge',
      'data-source': e.source,
      'data-target': e.target,
      'data-rps': e.requestsPerSecond,
      'data-mtls': String(e.mtls),
    },
      s('path', { d: p.path, 'marker-end': 'url(#arrow)' }),
      s('title', {}, `${e.source} → ${e.target} (${e.protocol}${e.mtls ? `, mTLS ${e.mtlsPercent?.toFixed(0) ?? ''}%` : ', no mTLS'})\n${p.label.lines.join(' · ')}`),
    ));
  }
  // Labels above every line, so that their background covers the lines they sit on.
  svg.append(s('g', { class: 'edge-labels' }, ...layout.edges.map(edgeLabelEl)));
  for (const p of layout.nodes) {
    const n = p.node;
    const label = nodeLabel(n);
    const node = s('g', { class: `node ${n.kind}${n.idle === true ? ' idle' : ''}`, 'data-testid': `node-${n.id}`, 'data-label': label, 'data-kind': n.kind },
      nodeShape(n.kind, p.x, p.y),
      s('text', { x: p.x, y: p.y + NAME_BASELINE, 'text-anchor': 'middle' }, label),
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
  let options = parseGraphOptions(win.location.search);
  const select = h('select', { 'data-testid': 'graph-window', 'aria-label': 'metrics window' }, ...[...new Set([...WINDOWS, options.window])].map((w) => {
    const o = h('option', { value: w }, `last ${w}`);
    if (w === options.window) o.setAttribute('selected', '');
    return o;
  }));
  select.addEventListener('change', () => {
    win.location.assign(`/graph${withGraphOption(win.location.search, { window: (select as InputEl).value })}`);
  });
  const idleBox = h('input', { type: 'checkbox', 'data-testid': 'graph-idle-nodes' }) as InputEl;
  idleBox.checked = options.idleNodes;
  const status = h('span', { class: 'status', 'data-testid': 'graph-updated' }, 'loading…');
  const canvas = h('div', { class: 'graph-canvas', 'data-testid': 'graph' });
  main.replaceChildren(
    h('div', { class: 'toolbar' },
      h('h1', {}, 'Service graph'),
      select,
      h('label', { class: 'option', title: 'Services the mesh knows that had no traffic in the window' }, idleBox, 'Show idle nodes'),
      options.namespace !== '' && h('span', { class: 'chip' }, `namespace ${options.namespace}`),
      status,
    ),
    canvas,
    legend(),
  );
  const measure = browserTextWidth();
  let last: GraphResponse | undefined;
  const draw = (): void => {
    if (last === undefined) return;
    const { graph, hiddenIdle } = visibleGraph(last, options.idleNodes);
    const hidden = hiddenIdle === 0 ? '' : ` · ${hiddenIdle} idle node${hiddenIdle === 1 ? '' : 's'} hidden`;
    canvas.replaceChildren(graph.nodes.length === 0
      ? h('p', { class: 'empty', 'data-testid': 'graph-empty' }, `No traffic in the window yet: send some requests through the mesh${hiddenIdle > 0 ? ', or tick "Show idle nodes"' : ''}.`)
      : drawGraph(graph, measure));
    status.textContent = `${graph.edges.length} edges${hidden} · updated ${new Date(last.timestamp).toLocaleTimeString()} · every ${REFRESH_MS / 1000}s`;
    canvas.setAttribute('data-timestamp', last.timestamp);
  };
  idleBox.addEventListener('change', () => {
    options = { ...options, idleNodes: idleBox.checked };
    win.history.replaceState(null, '', `/graph${withGraphOption(win.location.search, { idleNodes: idleBox.checked })}`);
    draw();
  });
  let stopped = false;
  const refresh = async (): Promise<void> => {
    try {
      const g = await getJson<GraphResponse>(`/api/graph?${graphApiQuery(options)}`);
      if (stopped) return;
      last = g;
      draw();
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
