// SDS over ADS for one proxy (Istio's pilot/pkg/xds/sds.go SecretGen): one Secret per credential its config
// references — a router's Gateway servers with `credentialName(s)` / `caCertCredentialName`, and clusters
// originating TLS with a DestinationRule `credentialName` — built from the Kubernetes Secrets in the snapshot
// (credential-secret.ts). Istio answers the names Envoy asks for; here the config is walked for the same names,
// since translation sends everything at once. A reference that cannot be served gets no Secret, and an issue
// naming the config, field and credential in Istio's wording ("failed to fetch key and certificate for
// kubernetes://x: ..."). The caller sorts by name. Values never reach an issue.

import { warning, type Issue } from '../../lib/issue.js';
import type { Cluster } from '../../xds/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { Secret } from '../../xds/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import type { ProxyContext } from '../context.js';
import { parseCredentialRequest, type CredentialRequest } from './credential-name.js';
import { clusterCredentialRefs, gatewayCredentialRefs, type CredentialRef } from './credential-refs.js';
import { credentialSecret, type SecretOutcome } from './credential-secret.js';

export interface SecretBuild {
  readonly secrets: Secret[];
  /** Credentials that could not be served (warnings), naming the config, field and reason. */
  readonly issues: Issue[];
}

/** Istio's namespace rule tripped users up often enough to say it when it is the likely cause. */
function namespaceHint(ctx: ProxyContext, req: CredentialRequest, ref: CredentialRef): string {
  if (req.kind !== 'secret' || !req.resourceName.startsWith('kubernetes://') || ref.configNamespace === '' || ref.configNamespace === req.namespace) return '';
  if (ctx.snapshot.secret(ref.configNamespace, req.name) === undefined) return '';
  return `; the secret must be in the namespace of the gateway workload (${req.namespace}), not of the Gateway (${ref.configNamespace})`;
}

export function buildSecretsWithIssues(ctx: ProxyContext, clusters: readonly Cluster[] = []): SecretBuild {
  const refs = [...gatewayCredentialRefs(ctx), ...clusterCredentialRefs(clusters)];
  const who = { namespace: ctx.proxy.namespace, router: ctx.proxy.type === 'router' };
  const outcomes = new Map<string, { req: CredentialRequest; out: SecretOutcome | undefined }>();
  const issues: Issue[] = [];
  for (const ref of refs) {
    let done = outcomes.get(ref.resourceName);
    if (done === undefined) {
      const req = parseCredentialRequest(ref.resourceName, who);
      const out = req.kind === 'secret' ? credentialSecret(ctx.snapshot, req.resourceName, req.namespace, req.name, req.caOnly) : undefined;
      if (out?.ok === true && out.warning !== undefined && req.kind === 'secret') issues.push(warning(`Secret ${req.namespace}/${req.name}`, out.warning));
      done = { req, out };
      outcomes.set(ref.resourceName, done);
    }
    const { req, out } = done;
    if (req.kind === 'denied') issues.push(warning(ref.path, `unauthorized certificate ${ref.resourceName} (${ref.origin}): ${req.reason}`));
    else if (out !== undefined && !out.ok) issues.push(warning(ref.path, `${out.error} (${ref.origin})${namespaceHint(ctx, req, ref)}`));
  }
  const secrets: Secret[] = [];
  for (const { out } of outcomes.values()) if (out?.ok === true) secrets.push(out.secret);
  return { secrets, issues };
}

export function buildSecrets(ctx: ProxyContext, clusters: readonly Cluster[] = []): Secret[] {
  return buildSecretsWithIssues(ctx, clusters).secrets;
}
