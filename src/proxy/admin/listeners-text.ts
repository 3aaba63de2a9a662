// Envoy's text admin /listeners: `<name>::<address>` per listener (`api_listener` for an API listener).

import { LISTENER_TYPE } from '../../xds/type-urls.js';
import { formatAddress } from './address-text.js';
import type { DumpSource } from './dump-source.js';

export function listenersText(src: Pick<DumpSource, 'table'>): string {
  return [...src.table(LISTENER_TYPE).entries()].map(([name, e]) => `${name}::${e.message.apiListener !== undefined ? 'api_listener' : formatAddress(e.message.address)}\n`).join('');
}
