// What `isthmus up` runs, as Kubernetes would schedule it: each Deployment in the config gives
// `spec.replicas` pods, named as the Deployment and ReplicaSet controllers name them
// (`reviews-v1-<10-char template hash>-<5-char suffix>`, deterministic here so names survive restarts),
// with the pod template's labels, service account and containers. A pod whose container is the Istio
// proxy image (`isthmus/proxy`, or `istio/proxyv2` as in Istio's gateway manifests) is a gateway; every
// other pod is an app that gets a sidecar.

import { isKind } from '../../api/kind.js';
import { DEPLOYMENT, deploymentPodLabels, deploymentReplicas, type Deployment } from '../../api/core/deployment.js';
import type { ResourceEntry } from '../../api/entry.js';
import { createHash } from 'node:crypto';

export interface ContainerPlan {
  readonly name: string;
  readonly image: string;
  readonly command: readonly string[];
  readonly args: readonly string[];
  readonly workingDir?: string;
  /** Literal `env` values; valueFrom is not resolved here (reported as a problem). */
  readonly env: Readonly<Record<string, string>>;
  readonly ports: readonly { readonly name?: string; readonly containerPort: number }[];
}

export interface PodPlan {
  /** `namespace/deployment`: what the pod belongs to. */
  readonly owner: string;
  readonly deployment: string;
  readonly namespace: string;
  /** The pod name: `<deployment>-<hash>-<suffix>`. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
  readonly role: 'gateway' | 'app';
  readonly containers: readonly ContainerPlan[];
  /** Named container ports, for Service targetPort names. */
  readonly namedPorts: Readonly<Record<string, number>>;
}

export interface PodPlanResult {
  readonly pods: readonly PodPlan[];
  /** `Deployment ns/name: spec.template...: reason` lines for what cannot run here. */
  readonly problems: readonly string[];
}

const GATEWAY_IMAGES = [/^isthmus\/proxy([:@].*)?$/, /(^|\/)proxyv2([:@].*)?$/];

/** Kubernetes' SafeEncodeString alphabet (no vowels, no look-alike characters). */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function safeHash(input: string, length: number): string {
  const digest = createHash('sha256').update(input).digest();
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[(digest[i] ?? 0) % ALPHABET.length];
  return out;
}

/** JSON with object keys sorted, so the hash does not depend on the order the YAML lists them in. */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export function isGatewayImage(image: string): boolean {
  return GATEWAY_IMAGES.some((r) => r.test(image));
}

export function planPods(entries: readonly ResourceEntry[]): PodPlanResult {
  const pods: PodPlan[] = [];
  const problems: string[] = [];
  const deployments = entries.map((e) => e.resource).filter((r): r is Deployment => isKind(r, DEPLOYMENT));
  deployments.sort((a, b) => `${a.metadata.namespace ?? 'default'}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? 'default'}/${b.metadata.name}`));
  for (const d of deployments) {
    const namespace = d.metadata.namespace ?? 'default';
    const where = `Deployment ${namespace}/${d.metadata.name}`;
    const spec = d.spec.template.spec;
    const containers: ContainerPlan[] = [];
    for (const [i, c] of (spec.containers ?? []).entries()) {
      const env: Record<string, string> = {};
      for (const v of c.env ?? []) {
        if (v.valueFrom !== undefined) problems.push(`${where}: spec.template.spec.containers[${i}].env[${v.name}].valueFrom: not supported on this machine; the variable is not set`);
        else env[v.name] = v.value ?? '';
      }
      containers.push({
        name: c.name,
        image: c.image ?? '',
        command: c.command ?? [],
        args: c.args ?? [],
        ...(c.workingDir !== undefined ? { workingDir: c.workingDir } : {}),
        env,
        ports: (c.ports ?? []).map((p) => ({ ...(p.name !== undefined ? { name: p.name } : {}), containerPort: p.containerPort })),
      });
    }
    if (containers.length === 0) {
      problems.push(`${where}: spec.template.spec.containers: no containers to run`);
      continue;
    }
    const role = containers.some((c) => isGatewayImage(c.image)) ? 'gateway' : 'app';
    const namedPorts: Record<string, number> = {};
    for (const c of containers) for (const p of c.ports) if (p.name !== undefined) namedPorts[p.name] = p.containerPort;
    const templateHash = safeHash(stableJson(d.spec.template), 10);
    const replicas = deploymentReplicas(d);
    for (let r = 0; r < replicas; r++) {
      pods.push({
        owner: `${namespace}/${d.metadata.name}`,
        deployment: d.metadata.name,
        namespace,
        name: `${d.metadata.name}-${templateHash}-${safeHash(`${namespace}/${d.metadata.name}/${r}`, 5)}`,
        labels: { ...deploymentPodLabels(d), 'pod-template-hash': templateHash },
        serviceAccount: spec.serviceAccountName ?? spec.serviceAccount ?? 'default',
        role,
        containers,
        namedPorts,
      });
    }
  }
  return { pods, problems };
}
