// Every kind Isthmus understands, listed explicitly (no registration by import side effect).

import type { AnyKind } from './kind.js';
import { PEER_AUTHENTICATION } from './security/peer-authentication.js';

export const ALL_KINDS: readonly AnyKind[] = [PEER_AUTHENTICATION];
