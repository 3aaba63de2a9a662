// Small Kubernetes and Istio documents the data-plane and CLI suites write into a test mesh's folder.

/** A Service in `default` selecting app=<name>, with one port (named `http` unless told). */
export function serviceYaml(name: string, port: number, targetPort: number, portName = 'http'): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec:
  selector: {app: ${name}}
  ports: [{name: ${portName}, port: ${port}, targetPort: ${targetPort}}]
---
`;
}

/** PeerAuthentication STRICT for the `default` namespace. */
export const STRICT_MTLS = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: default}
spec: {mtls: {mode: STRICT}}
`;
