// VirtualService header operations to Envoy's header lists (pilot/pkg/networking/core/route/route.go
// TranslateHeadersOperations): `set` overwrites (OVERWRITE_IF_EXISTS_OR_ADD), `add` appends
// (APPEND_IF_EXISTS_OR_ADD), each list sorted by header name with `set` before `add`; pseudo-headers and
// Host are dropped from every list, but a request `:authority`/`Host` set or add becomes the authority to
// rewrite (`set` wins over `add`).

import { create } from '@bufbuild/protobuf';
import type { Headers } from '../../api/networking/virtual-service.js';
import {
  HeaderValueOptionSchema,
  HeaderValueOption_HeaderAppendAction as AppendAction,
  type HeaderValueOption,
} from '../../xds/gen/envoy/config/core/v3/base_pb.js';

export interface HeaderOperations {
  readonly requestHeadersToAdd: HeaderValueOption[];
  readonly requestHeadersToRemove: string[];
  readonly responseHeadersToAdd: HeaderValueOption[];
  readonly responseHeadersToRemove: string[];
  /** The authority a request `:authority`/`Host` operation asks for; '' when none. */
  readonly authority: string;
}

function isInternalHeader(k: string): boolean {
  return k.startsWith(':') || k.toLowerCase() === 'host';
}

function isAuthorityHeader(k: string): boolean {
  const l = k.toLowerCase();
  return l === ':authority' || l === 'host';
}

/** translateAppendHeaders: sorted options and the last authority value among them. */
function appendHeaders(headers: Readonly<Record<string, string>> | undefined, append: boolean): { options: HeaderValueOption[]; authority: string } {
  let authority = '';
  const options: HeaderValueOption[] = [];
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (isAuthorityHeader(key)) authority = value;
    if (isInternalHeader(key)) continue;
    options.push(
      create(HeaderValueOptionSchema, {
        header: { key, value },
        appendAction: append ? AppendAction.APPEND_IF_EXISTS_OR_ADD : AppendAction.OVERWRITE_IF_EXISTS_OR_ADD,
      }),
    );
  }
  options.sort((a, b) => ((a.header?.key ?? '') < (b.header?.key ?? '') ? -1 : (a.header?.key ?? '') > (b.header?.key ?? '') ? 1 : 0));
  return { options, authority };
}

export function translateHeaderOperations(h: Headers): HeaderOperations {
  const reqSet = appendHeaders(h.request?.set, false);
  const reqAdd = appendHeaders(h.request?.add, true);
  const respSet = appendHeaders(h.response?.set, false);
  const respAdd = appendHeaders(h.response?.add, true);
  return {
    requestHeadersToAdd: [...reqSet.options, ...reqAdd.options],
    requestHeadersToRemove: (h.request?.remove ?? []).filter((k) => !isInternalHeader(k)),
    responseHeadersToAdd: [...respSet.options, ...respAdd.options],
    responseHeadersToRemove: (h.response?.remove ?? []).filter((k) => !isInternalHeader(k)),
    authority: reqSet.authority !== '' ? reqSet.authority : reqAdd.authority,
  };
}
