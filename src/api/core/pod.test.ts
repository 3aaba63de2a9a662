import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectInvalid, expectValid, validateYaml } from '../../../test/support/kinds.js';
import { isPodReady, POD, podIPs, podServiceAccount, type Pod } from './pod.js';

const K = [POD];
const pod = (spec: string): string => `apiVersion: v1\nkind: Pod\nmetadata: {name: reviews-v1-abc, namespace: default, labels: {app: reviews}}\nspec:\n${spec}`;
const one = (c: string): string => `  containers:\n  - name: app\n    image: nginx\n${c}`;

// A sidecar-injected bookinfo pod as the API server returns it: native sidecar, init container, probes,
// projected token volumes, security contexts and a running status.
const INJECTED = `apiVersion: v1
kind: Pod
metadata:
  name: reviews-v1-7d8b4c9f5-x2x7l
  namespace: default
  labels: {app: reviews, version: v1, security.istio.io/tlsMode: istio, service.istio.io/canonical-name: reviews}
  annotations: {sidecar.istio.io/status: '{"initContainers":["istio-init"]}', kubectl.kubernetes.io/default-container: reviews}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: reviews-v1-7d8b4c9f5, uid: 1234, controller: true}]
spec:
  serviceAccountName: bookinfo-reviews
  serviceAccount: bookinfo-reviews
  automountServiceAccountToken: true
  nodeName: kind-worker
  restartPolicy: Always
  dnsPolicy: ClusterFirst
  terminationGracePeriodSeconds: 30
  schedulerName: default-scheduler
  enableServiceLinks: true
  preemptionPolicy: PreemptLowerPriority
  priority: 0
  securityContext: {fsGroup: 1337, runAsNonRoot: false, seccompProfile: {type: RuntimeDefault}}
  tolerations:
  - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 300}
  initContainers:
  - name: istio-init
    image: docker.io/istio/proxyv2:1.24.0
    args: [istio-iptables, -p, "15001", -z, "15006", -u, "1337", -m, REDIRECT, -i, "*", -x, "", -b, "*", -d, "15090,15021,15020"]
    resources: {limits: {cpu: "2", memory: 1Gi}, requests: {cpu: 10m, memory: 40Mi}}
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {add: [NET_ADMIN, NET_RAW], drop: [ALL]}
      privileged: false
      readOnlyRootFilesystem: false
      runAsGroup: 0
      runAsNonRoot: false
      runAsUser: 0
    terminationMessagePath: /dev/termination-log
    terminationMessagePolicy: File
    imagePullPolicy: IfNotPresent
  - name: istio-proxy
    image: docker.io/istio/proxyv2:1.24.0
    restartPolicy: Always
    args: [proxy, sidecar, --domain, $(POD_NAMESPACE).svc.cluster.local]
    ports:
    - {containerPort: 15090, name: http-envoy-prom, protocol: TCP}
    env:
    - {name: PILOT_CERT_PROVIDER, value: istiod}
    - name: POD_NAME
      valueFrom: {fieldRef: {apiVersion: v1, fieldPath: metadata.name}}
    - name: INSTANCE_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
    - name: GOMAXPROCS
      valueFrom: {resourceFieldRef: {divisor: "0", resource: limits.cpu}}
    - {name: ISTIO_META_APP_CONTAINERS, value: reviews}
    readinessProbe:
      httpGet: {path: /healthz/ready, port: 15021, scheme: HTTP}
      initialDelaySeconds: 0
      periodSeconds: 15
      timeoutSeconds: 3
      failureThreshold: 4
      successThreshold: 1
    startupProbe:
      httpGet: {path: /healthz/ready, port: 15021}
      periodSeconds: 1
      failureThreshold: 600
    lifecycle:
      preStop: {exec: {command: [pilot-agent, request, POST, drain]}}
    volumeMounts:
    - {mountPath: /var/run/secrets/workload-spiffe-uds, name: workload-socket}
    - {mountPath: /var/run/secrets/istio, name: istiod-ca-cert}
    - {mountPath: /var/run/secrets/tokens, name: istio-token, readOnly: true}
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, runAsUser: 1337, runAsGroup: 1337, runAsNonRoot: true, readOnlyRootFilesystem: true}
  containers:
  - name: reviews
    image: docker.io/istio/examples-bookinfo-reviews-v1:1.20.3
    imagePullPolicy: IfNotPresent
    ports: [{containerPort: 9080, protocol: TCP}]
    env: [{name: LOG_DIR, value: /tmp/logs}]
    volumeMounts: [{name: tmp, mountPath: /tmp}, {name: wlp-output, mountPath: /opt/ibm/wlp/output}]
    livenessProbe: {tcpSocket: {port: 9080}, periodSeconds: 10}
    resources: {requests: {cpu: 100m}}
  volumes:
  - {name: workload-socket, emptyDir: {}}
  - {name: istiod-ca-cert, configMap: {name: istio-ca-root-cert, defaultMode: 420}}
  - name: istio-token
    projected: {sources: [{serviceAccountToken: {audience: istio-ca, expirationSeconds: 43200, path: istio-token}}]}
  - {name: wlp-output, emptyDir: {}}
  - {name: tmp, emptyDir: {medium: Memory, sizeLimit: 64Mi}}
status:
  phase: Running
  hostIP: 172.18.0.3
  hostIPs: [{ip: 172.18.0.3}]
  podIP: 10.244.1.7
  podIPs: [{ip: 10.244.1.7}]
  qosClass: Burstable
  startTime: "2024-05-01T10:00:00Z"
  conditions:
  - {type: Initialized, status: "True", lastProbeTime: null, lastTransitionTime: "2024-05-01T10:00:02Z"}
  - {type: Ready, status: "True", lastProbeTime: null, lastTransitionTime: "2024-05-01T10:00:09Z"}
  containerStatuses:
  - {name: reviews, ready: true, restartCount: 0, image: "docker.io/istio/examples-bookinfo-reviews-v1:1.20.3", imageID: "sha256:abc", containerID: "containerd://1", started: true, state: {running: {startedAt: "2024-05-01T10:00:05Z"}}, lastState: {}}
`;

describe('Pod', () => {
  it('accepts a sidecar-injected bookinfo pod (full-featured) and reads its status', () => {
    expectValid(INJECTED, K);
    const out = validateYaml(INJECTED, K);
    assert.ok(out.ok);
    const p = out.resource as Pod;
    assert.deepEqual(podIPs(p), ['10.244.1.7']);
    assert.equal(isPodReady(p), true);
    assert.equal(podServiceAccount(p.spec), 'bookinfo-reviews');
    assert.equal(podServiceAccount({}), 'default');
  });

  it('accepts a minimal pod and hostNetwork with matching ports', () => {
    expectValid(pod(one('')), K);
    expectValid(pod('  hostNetwork: true\n' + one('    ports: [{containerPort: 8080, hostPort: 8080}]\n')), K);
    expectValid(pod(one('    env: [{name: "my.env-name", value: x}]\n')), K);
  });

  const invalid: { name: string; spec: string; path: string; message: string }[] = [
    { name: 'no containers', spec: '  restartPolicy: Always\n', path: 'spec.containers', message: 'Required value' },
    { name: 'container without image', spec: '  containers: [{name: app}]\n', path: 'spec.containers[0].image', message: 'Required value' },
    {
      name: 'container name not a DNS label',
      spec: '  containers: [{name: My_App, image: x}]\n',
      path: 'spec.containers[0].name',
      message: 'Invalid value: "My_App": a lowercase RFC 1123 label must consist of',
    },
    {
      name: 'duplicate container names across init and regular',
      spec: '  initContainers: [{name: app, image: x}]\n' + one(''),
      path: 'spec.initContainers[0].name',
      message: 'Duplicate value: "app"',
    },
    { name: 'containerPort missing (0)', spec: one('    ports: [{containerPort: 0}]\n'), path: 'spec.containers[0].ports[0].containerPort', message: 'Required value' },
    {
      name: 'containerPort out of range',
      spec: one('    ports: [{containerPort: 65536}]\n'),
      path: 'spec.containers[0].ports[0].containerPort',
      message: 'Invalid value: 65536: must be between 1 and 65535, inclusive',
    },
    {
      name: 'port name too long',
      spec: one('    ports: [{containerPort: 80, name: http-metrics-port}]\n'),
      path: 'spec.containers[0].ports[0].name',
      message: 'Invalid value: "http-metrics-port": must be no more than 15 characters',
    },
    {
      name: 'unsupported port protocol',
      spec: one('    ports: [{containerPort: 80, protocol: tcp}]\n'),
      path: 'spec.containers[0].ports[0].protocol',
      message: 'Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"',
    },
    {
      name: 'env name with =',
      spec: one('    env: [{name: "A=B", value: x}]\n'),
      path: 'spec.containers[0].env[0].name',
      message: `a valid environment variable name must consist only of printable ASCII characters other than '='`,
    },
    {
      name: 'probe without a handler',
      spec: one('    readinessProbe: {periodSeconds: 5}\n'),
      path: 'spec.containers[0].readinessProbe',
      message: 'Required value: must specify a handler type',
    },
    {
      name: 'probe with two handlers',
      spec: one('    livenessProbe: {httpGet: {port: 80}, tcpSocket: {port: 80}}\n'),
      path: 'spec.containers[0].livenessProbe.tcpSocket',
      message: 'Forbidden: may not specify more than 1 handler type',
    },
    {
      name: 'liveness successThreshold not 1',
      spec: one('    livenessProbe: {tcpSocket: {port: 80}, successThreshold: 2}\n'),
      path: 'spec.containers[0].livenessProbe.successThreshold',
      message: 'Invalid value: 2: must be 1',
    },
    {
      name: 'probe port name invalid',
      spec: one('    readinessProbe: {httpGet: {port: HTTP}}\n'),
      path: 'spec.containers[0].readinessProbe.httpGet.port',
      message: 'Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    },
    {
      name: 'probe on a plain init container',
      spec: '  initContainers: [{name: init, image: x, readinessProbe: {tcpSocket: {port: 80}}}]\n' + one(''),
      path: 'spec.initContainers[0].readinessProbe',
      message: 'Forbidden: may not be set for init containers without restartPolicy=Always',
    },
    {
      name: 'restartPolicy on a regular container',
      spec: one('    restartPolicy: Always\n'),
      path: 'spec.containers[0].restartPolicy',
      message: 'Forbidden: may not be set for non-init containers',
    },
    {
      name: 'mount of an undeclared volume',
      spec: one('    volumeMounts: [{name: data, mountPath: /data}]\n'),
      path: 'spec.containers[0].volumeMounts[0].name',
      message: 'Not found: "data"',
    },
    {
      name: 'hostNetwork with a different hostPort',
      spec: '  hostNetwork: true\n' + one('    ports: [{containerPort: 8080, hostPort: 80}]\n'),
      path: 'spec.containers[0].ports[0].containerPort',
      message: 'Invalid value: 8080: must match `hostPort` when `hostNetwork` is true',
    },
    {
      name: 'unsupported restartPolicy',
      spec: '  restartPolicy: Sometimes\n' + one(''),
      path: 'spec.restartPolicy',
      message: 'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    },
    {
      name: 'serviceAccountName not a subdomain',
      spec: '  serviceAccountName: Bookinfo_Reviews\n' + one(''),
      path: 'spec.serviceAccountName',
      message: 'Invalid value: "Bookinfo_Reviews": a lowercase RFC 1123 subdomain must consist of',
    },
    {
      name: 'volume without a source',
      spec: '  volumes: [{name: data}]\n' + one(''),
      path: 'spec.volumes[0]',
      message: 'Required value: must specify a volume type',
    },
    { name: 'unknown container field', spec: one('    imagePullPolicyy: Always\n'), path: 'spec.containers[0].imagePullPolicyy', message: 'unknown field "imagePullPolicyy"' },
    { name: 'unknown pod spec field', spec: '  serviceAccountNam: x\n' + one(''), path: 'spec.serviceAccountNam', message: 'unknown field "serviceAccountNam"' },
  ];
  for (const c of invalid) it(`rejects ${c.name}`, () => void expectInvalid(pod(c.spec), K, [{ path: c.path, message: c.message }]));

  it('reports an unknown status field', () => {
    expectInvalid(pod(one('')) + 'status: {podIp: 10.0.0.1}\n', K, [{ path: 'status.podIp', message: 'unknown field "podIp"' }]);
  });
});
