// Where a jwtRule's keys come from when the rule has no inline `jwks`, as istiod resolves them in its
// default mode (PILOT_JWT_ENABLE_REMOTE_JWKS=false: istiod fetches and inlines; pilot/pkg/model/jwks_resolver.go):
// the `jwksUri`, else OpenID discovery at `<issuer>/.well-known/openid-configuration` (its `jwks_uri`).
// The key names that source in the snapshot's JWKS map (MeshSnapshot.jwks): the URI itself, or the discovery
// URL, which the control plane's resolver recognises by its suffix. A rule whose keys are unknown or could
// not be fetched gets PUBLIC_ONLY_JWKS, Istio's fail-closed key set: its private half was discarded, so no
// token verifies against it.

import { jwksUriOf, type JWTRule, type RequestAuthentication } from '../../../api/security/request-authentication.js';

/** jwks_resolver.go openIDDiscoveryCfgURLSuffix. */
export const OPENID_DISCOVERY_SUFFIX = '/.well-known/openid-configuration';

/** jwks_resolver.go PublicOnlyJwks. */
export const PUBLIC_ONLY_JWKS = `{
  "keys": [
    {
      "kty": "RSA",
      "e": "AQAB",
      "n": "0xObjM0UvS_oaazjpEYlAbwctEJ4L8pH3OuTb7qth7gUwqet-EzQB4dgFdvSdMgrLnSncQGRjpEYz3F3viIbH-3EN3TxSlPNviHxeOdyiBVfumN8dMxbLvVJUpfNOnvmMxJcl-8NNjAwcOjk4otSALaYgYYyOPyvKtgVdrQr-FoubWX4yrjxW-MJ2-7OBeepUUNOsVwGV23YX03sVkkyvY3otRflkBcY3_HKpBxJl9wk2GyOShN4_PNUF9-vwfnvOXMbCDX-w4PTef4geeb_GiT40YCKHTKMSPVanGRn5GExIWmki-mmqh94-mPTJyBR74ShspL3BxPZitDL574T1w"
    }
  ]
}`;

/** The snapshot key of a rule's remote keys; undefined when the rule inlines `jwks` or names neither URI nor issuer. */
export function jwksSourceKey(rule: JWTRule): string | undefined {
  if ((rule.jwks ?? '') !== '') return undefined;
  const uri = jwksUriOf(rule) ?? '';
  if (uri !== '') return uri;
  const issuer = rule.issuer ?? '';
  if (issuer === '') return undefined;
  return (issuer.endsWith('/') ? issuer.slice(0, -1) : issuer) + OPENID_DISCOVERY_SUFFIX;
}

/** Every remote key source the given RequestAuthentications need (what the control plane hands its resolver). */
export function jwksSourcesOf(policies: Iterable<RequestAuthentication>): Set<string> {
  const out = new Set<string>();
  for (const ra of policies)
    for (const rule of ra.spec.jwtRules ?? []) {
      const k = jwksSourceKey(rule);
      if (k !== undefined) out.add(k);
    }
  return out;
}
