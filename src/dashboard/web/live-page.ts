// The frame of a page that refreshes itself, as the graph does: a toolbar (title, the metrics window
// when the page has one, when it was last updated) over content that is rebuilt from the API every
// REFRESH_MS. The toolbar stays, so the window picker is not reset under the user's hand; a failed
// refresh keeps the last content and says why in the status.

import { ApiFailure } from './api.js';
import { h, win, type El, type InputEl } from './dom.js';
import { REFRESH_MS } from './graph-page.js';

/** The windows of the list pages (the current picture) and of a service's or workload's page (its recent history). */
export const LIST_WINDOWS = { choices: ['1m', '5m', '10m'], fallback: '1m' } as const;
export const PAGE_WINDOWS = { choices: ['1m', '5m', '10m'], fallback: '10m' } as const;

export interface LivePageOptions<T> {
  /** Links above the title (Services / ...). */
  readonly crumbs?: readonly (El | string)[];
  readonly title: string;
  /** The page's ?window= choices and the default; none: the page has no window. */
  readonly windows?: { readonly choices: readonly string[]; readonly fallback: string };
  /** Loads the data; `window` is the chosen window ('' without one). */
  load(window: string): Promise<T>;
  render(data: T): readonly El[];
  /** The status line after an update (default: the time). */
  describe?(data: T): string;
}

/** Renders the page into `main`; returns the function that stops its refreshing. */
export function livePage<T>(main: El, o: LivePageOptions<T>): () => void {
  const params = new URLSearchParams(win.location.search);
  const window = o.windows === undefined ? '' : (params.get('window') ?? o.windows.fallback);
  const status = h('span', { class: 'status', 'data-testid': 'page-updated' }, 'loading…');
  const content = h('div', { class: 'live-content', 'data-testid': 'page-content' });
  let picker: El | undefined;
  if (o.windows !== undefined) {
    picker = h('select', { 'data-testid': 'page-window', 'aria-label': 'metrics window' }, ...[...new Set([...o.windows.choices, window])].map((w) => {
      const opt = h('option', { value: w }, `last ${w}`);
      if (w === window) opt.setAttribute('selected', '');
      return opt;
    }));
    picker.addEventListener('change', () => {
      const next = new URLSearchParams(win.location.search);
      next.set('window', (picker as InputEl).value);
      win.location.assign(`${win.location.pathname}?${next.toString()}`);
    });
  }
  main.replaceChildren(
    ...(o.crumbs !== undefined ? [h('p', { class: 'crumbs' }, ...o.crumbs)] : []),
    h('div', { class: 'toolbar' }, h('h1', { 'data-testid': 'page-title' }, o.title), picker, status),
    content,
  );
  let stopped = false;
  let loaded = false;
  const refresh = async (): Promise<void> => {
    try {
      const data = await o.load(window);
      if (stopped) return;
      content.replaceChildren(...o.render(data));
      loaded = true;
      status.textContent = `${o.describe?.(data) ?? ''}updated ${new Date().toLocaleTimeString()} · every ${REFRESH_MS / 1000}s`;
    } catch (e) {
      if (stopped || (e instanceof ApiFailure && e.message === 'not logged in')) return;
      const why = e instanceof Error ? e.message : String(e);
      if (!loaded) content.replaceChildren(h('p', { class: 'error', 'data-testid': 'page-error' }, why));
      status.textContent = `update failed: ${why}`;
    }
  };
  void refresh();
  const timer = setInterval(() => void refresh(), REFRESH_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
