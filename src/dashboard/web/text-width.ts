// How wide a line of the graph's text is, for placing labels before they are drawn. The page measures
// with the browser's own font (a canvas's measureText); Node tests and any page without a canvas use
// `estimateTextWidth`, a per-character table that errs wide: checked in Debian's Chromium against DejaVu
// Sans (what the stylesheet's font list resolves to there), it overestimates by 0-18%, most for capitals.

/** A text's font as the graph's stylesheet sets it: edge labels 11px, node names 12px semibold. */
export interface TextFont {
  readonly sizePx: number;
  readonly bold: boolean;
}

/** The width in px of one line of text in a font. */
export type TextWidth = (text: string, font: TextFont) => number;

export const EDGE_LABEL_FONT: TextFont = { sizePx: 11, bold: false };
export const NODE_NAME_FONT: TextFont = { sizePx: 12, bold: true };
export const BOX_TITLE_FONT: TextFont = { sizePx: 14, bold: true };
export const APP_TITLE_FONT: TextFont = { sizePx: 11, bold: false };

const NARROW = new Set([...' .,:;\'|!ijlI·']);
const HALF = new Set([...'()[]{}/\\tfr-']);
const WIDE = new Set([...'mwMW%—@']);

/** Advance width of a character in em, rounded up (DejaVu Sans: digits 0.64, lower case 0.35-0.98). */
function em(c: string): number {
  if (NARROW.has(c)) return 0.34;
  if (HALF.has(c)) return 0.45;
  if (WIDE.has(c)) return 1;
  if (c >= '0' && c <= '9') return 0.64;
  if (c >= 'A' && c <= 'Z') return 0.76;
  if ('<>=+~'.includes(c)) return 0.85;
  return 0.64;
}

/** A width that covers the text in DejaVu Sans or narrower fonts. Semibold is taken 12% wider. */
export const estimateTextWidth: TextWidth = (text, font) => {
  let sum = 0;
  for (const c of text) sum += em(c);
  return sum * font.sizePx * (font.bold ? 1.12 : 1);
};
