// What top-level `isthmus --help` shows of each verb, so that it prints without loading every verb's module
// (with them, the translator, the proxy and every Envoy descriptor: 1.7 s of a process's start, against 0.5 s).
// Each entry is a top-level command as the verb registers it: its name and aliases, the term help lists (name,
// aliases, `[options]`, arguments) and its description. program.test.ts checks that help printed from these is
// the help the verbs themselves print, so a verb whose name, arguments or description changes fails there until
// its entry here changes with it.

export interface VerbSummary {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly term: string;
  readonly description: string;
}

export const VERB_SUMMARIES: readonly VerbSummary[] = [
  { name: "validate", aliases: [], term: "validate [options]", description: "Validate Istio, Gateway API and Kubernetes resources with Istio's and Kubernetes' own rules" },
  { name: "analyze", aliases: [], term: "analyze [options] <paths...>", description: "Run Istio's analyzers over configuration files and folders" },
  { name: "bootstrap", aliases: [], term: "bootstrap [options]", description: "Print the bootstrap a proxy or a proxyless gRPC application needs to reach the control plane" },
  { name: "proxy-status", aliases: [], term: "proxy-status [options] [proxy]", description: "Show whether each connected proxy has the config the control plane would send it now" },
  { name: "control-plane", aliases: [], term: "control-plane [options]", description: "Run the control plane alone: serve the config folder to proxies over xDS (istiod's job)" },
  { name: "proxies", aliases: [], term: "proxies [options]", description: "Run several proxies in one process, from a spec file that is watched (isthmus up runs its pods' proxies this way)" },
  { name: "proxy", aliases: [], term: "proxy [options]", description: "Run the Isthmus proxy: serve traffic as a sidecar or gateway from config fetched over xDS (ADS)" },
  { name: "apply", aliases: [], term: "apply [options]", description: "Apply config to a running mesh (validated first; nothing changes when any document is invalid)" },
  { name: "delete", aliases: [], term: "delete [options]", description: "Delete config that `isthmus apply` added to a running mesh" },
  { name: "proxy-config", aliases: ["pc"], term: "proxy-config|pc", description: "Show a proxy's configuration from its Envoy admin, as istioctl proxy-config does" },
  { name: "dashboard", aliases: ["dash", "d"], term: "dashboard|dash", description: "Open web UIs: the mesh's dashboard (default), a proxy's Envoy admin (envoy)" },
  { name: "request", aliases: [], term: "request [options] <url>", description: "Send a request from a workload through its sidecar, like `kubectl exec <pod> -- curl -i <url>`" },
  { name: "explain", aliases: [], term: "explain [options] <url>", description: "Explain the path a request would take through a workload's sidecar, and why it would be routed or rejected" },
  { name: "x", aliases: ["experimental", "exp"], term: "x|experimental", description: "Experimental commands, as istioctl x" },
  { name: "wasm", aliases: [], term: "wasm", description: "Work with proxy-wasm plugins" },
  { name: "run", aliases: [], term: "run [options] <command...>", description: "Run an app inside a running mesh, with a sidecar (as a pod): isthmus run --name api --port 3000 -- node server.js" },
  { name: "up", aliases: [], term: "up [options] [folder]", description: "Run a whole mesh on this machine: control plane, sidecars, ingress gateway and the apps the folder declares" },
  { name: "watch", aliases: [], term: "watch [options] <folder>", description: "Load a folder of config, validate and analyze it, and follow every change live (Ctrl-C stops)" },
];
