// The text width estimate errs wide of the font the dashboard is drawn in, so that a label's box, sized
// before drawing, holds its text.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EDGE_LABEL_FONT, NODE_NAME_FONT, estimateTextWidth } from './text-width.js';

describe('text width estimate', () => {
  it("covers DejaVu Sans as Debian's Chromium draws it, within 20%", () => {
    // Widths measured with getComputedTextLength() in Chromium (11px regular, 12px semibold).
    const cases: [string, typeof EDGE_LABEL_FONT, number][] = [
      ['4.93 rps · p95 875ms', EDGE_LABEL_FONT, 117.64],
      ['3.22 rps (51%) · p95 675ms', EDGE_LABEL_FONT, 154.17],
      ['1.31 rps (21%) · 2.5% err · p95 1.82s', EDGE_LABEL_FONT, 204.5],
      ['0123456789', EDGE_LABEL_FONT, 70],
      ['abcdefghijklmnopqrstuvwxyz', EDGE_LABEL_FONT, 161.11],
      ['ABCDEFGHIJKLMNOPQRSTUVWXYZ', EDGE_LABEL_FONT, 192.2],
      ['kB/s', EDGE_LABEL_FONT, 23.36],
      ['productpage v1', NODE_NAME_FONT, 106.5],
      ['istio-ingressgateway', NODE_NAME_FONT, 141.13],
      ['reviews v2', NODE_NAME_FONT, 72.72],
    ];
    for (const [text, font, measured] of cases) {
      const w = estimateTextWidth(text, font);
      assert.ok(w >= measured && w <= measured * 1.2, `${text}: estimate ${w.toFixed(1)}, measured ${measured}`);
    }
  });
});
