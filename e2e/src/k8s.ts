// Pure translation of rendered Kubernetes objects into what Docker needs: no I/O here, so every
// rule (env resolution, securityContext, resources, probes, Service wiring) is unit-tested in
// k8s.test.ts. Where Kubernetes would refuse a pod, this throws with the kubelet's reason.

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: any };

export interface Pod {
  /** Pod name: `<workload>-<ordinal>` (StatefulSets name pods this way; Deployments' random suffix is replaced by the ordinal). */
  readonly name: string;
  readonly namespace: string;
  readonly workload: { kind: "Deployment" | "StatefulSet"; name: string };
  readonly labels: Record<string, string>;
  readonly spec: any;
  /** Volume name -> PVC claim name, for StatefulSet volumeClaimTemplates (`<template>-<pod>`). */
  readonly claims: Record<string, string>;
}

/** One pod per replica of every Deployment and StatefulSet, in the order the objects came. */
export function podsOf(objects: K8sObject[]): Pod[] {
  const pods: Pod[] = [];
  for (const o of objects) {
    if (o.kind !== "Deployment" && o.kind !== "StatefulSet") continue;
    const replicas: number = o.spec?.replicas ?? 1;
    for (let i = 0; i < replicas; i++) {
      const name = `${o.metadata.name}-${i}`;
      const claims: Record<string, string> = {};
      for (const t of o.kind === "StatefulSet" ? o.spec.volumeClaimTemplates ?? [] : []) claims[t.metadata.name] = `${t.metadata.name}-${name}`;
      pods.push({
        name,
        namespace: o.metadata.namespace ?? "default",
        workload: { kind: o.kind, name: o.metadata.name },
        labels: o.spec.template.metadata?.labels ?? {},
        spec: o.spec.template.spec,
        claims,
      });
    }
  }
  return pods;
}

/** Kubernetes CPU quantity ("500m", "1", "0.25") in cores. */
export function cpuCores(q: string | number): number {
  const s = String(q).trim();
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(s);
  if (!m) throw new Error(`CPU quantity ${JSON.stringify(q)} is not of the form 500m, 1 or 0.5`);
  return m[2] === "m" ? Number(m[1]) / 1000 : Number(m[1]);
}

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const DECIMAL: Record<string, number> = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** Kubernetes memory quantity ("512Mi", "1Gi", "128M", "1000") in bytes. */
export function bytes(q: string | number): number {
  const s = String(q).trim();
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T|)$/.exec(s);
  if (!m) throw new Error(`memory quantity ${JSON.stringify(q)} is not of the form 512Mi, 1Gi, 128M or a byte count`);
  return Math.round(Number(m[1]) * (BINARY[m[2]] ?? DECIMAL[m[2]]));
}

/** `docker run` flags for a container's resources, as the kubelet sets its cgroup. */
export function resourceArgs(resources: any = {}): string[] {
  const args: string[] = [];
  const { limits = {}, requests = {} } = resources;
  if (limits.cpu !== undefined) args.push("--cpus", String(cpuCores(limits.cpu)));
  // cpu.shares from the request, as the kubelet does (1 core = 1024 shares, minimum 2).
  const cpuRequest = requests.cpu ?? limits.cpu;
  if (cpuRequest !== undefined) args.push("--cpu-shares", String(Math.max(2, Math.round(cpuCores(cpuRequest) * 1024))));
  if (limits.memory !== undefined) {
    const b = bytes(limits.memory);
    args.push("--memory", `${b}b`, "--memory-swap", `${b}b`);
  }
  if (requests.memory !== undefined) args.push("--memory-reservation", `${bytes(requests.memory)}b`);
  return args;
}

export interface ObjectStore {
  configMaps: Map<string, Record<string, string>>;
  secrets: Map<string, Record<string, string>>;
}

/** ConfigMap and Secret values by `<namespace>/<name>`; Secret `data` is base64, `stringData` plain. */
export function objectStore(objects: K8sObject[]): ObjectStore {
  const store: ObjectStore = { configMaps: new Map(), secrets: new Map() };
  for (const o of objects) {
    const key = `${o.metadata.namespace ?? "default"}/${o.metadata.name}`;
    if (o.kind === "ConfigMap") {
      const binary = Object.fromEntries(Object.entries<string>(o.binaryData ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
      store.configMaps.set(key, { ...binary, ...(o.data ?? {}) });
    } else if (o.kind === "Secret") {
      const data = Object.fromEntries(Object.entries<string>(o.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
      store.secrets.set(key, { ...data, ...(o.stringData ?? {}) });
    }
  }
  return store;
}

/**
 * A container's environment as the kubelet builds it: envFrom first, then env in order, with
 * $(VAR) references to earlier variables expanded and $$ as a literal $.
 */
export function resolveEnv(pod: Pod, container: any, store: ObjectStore): Record<string, string> {
  const env: Record<string, string> = {};
  const where = `pod ${pod.name} container ${container.name}`;
  const lookup = (kind: "ConfigMap" | "Secret", name: string, key: string | undefined, optional: boolean): Record<string, string> | string | undefined => {
    const map = (kind === "ConfigMap" ? store.configMaps : store.secrets).get(`${pod.namespace}/${name}`);
    if (!map) {
      if (optional) return undefined;
      throw new Error(`${where}: ${kind} ${pod.namespace}/${name} is not among the rendered objects (CreateContainerConfigError)`);
    }
    if (key === undefined) return map;
    if (!(key in map)) {
      if (optional) return undefined;
      throw new Error(`${where}: ${kind} ${pod.namespace}/${name} has no key ${key}; it has ${Object.keys(map).join(", ") || "none"} (CreateContainerConfigError)`);
    }
    return map[key];
  };
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    const values = lookup(from.configMapRef ? "ConfigMap" : "Secret", ref.name, undefined, ref.optional === true) as Record<string, string> | undefined;
    for (const [k, v] of Object.entries(values ?? {})) env[`${from.prefix ?? ""}${k}`] = v;
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom) {
      const v = e.valueFrom;
      let value: string | undefined;
      if (v.configMapKeyRef) value = lookup("ConfigMap", v.configMapKeyRef.name, v.configMapKeyRef.key, v.configMapKeyRef.optional === true) as string | undefined;
      else if (v.secretKeyRef) value = lookup("Secret", v.secretKeyRef.name, v.secretKeyRef.key, v.secretKeyRef.optional === true) as string | undefined;
      else if (v.fieldRef) value = fieldRef(pod, v.fieldRef.fieldPath, where);
      else throw new Error(`${where}: env ${e.name} uses ${Object.keys(v).join(", ")}, which this runner does not support`);
      if (value !== undefined) env[e.name] = value;
    } else {
      env[e.name] = expand(e.value ?? "", env);
    }
  }
  return env;
}

function fieldRef(pod: Pod, path: string, where: string): string {
  if (path === "metadata.name") return pod.name;
  if (path === "metadata.namespace") return pod.namespace;
  const label = /^metadata\.labels\['(.+)'\]$/.exec(path);
  if (label) return pod.labels[label[1]] ?? "";
  throw new Error(`${where}: fieldRef ${path} is not supported here (supported: metadata.name, metadata.namespace, metadata.labels['...'])`);
}

/** Kubernetes' $(VAR) expansion: defined variables are replaced, undefined ones left as written, $$ escapes. */
export function expand(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (all, name?: string) => {
    if (all === "$$") return "$";
    return name !== undefined && name in env ? env[name] : all;
  });
}

/** Entrypoint and arguments: `command` replaces the image's ENTRYPOINT (and drops its CMD), `args` its CMD. */
export function commandArgs(container: any, env: Record<string, string>): { entrypoint?: string; args: string[] } {
  const command: string[] | undefined = container.command?.map((c: string) => expand(c, env));
  const args: string[] = (container.args ?? []).map((a: string) => expand(a, env));
  if (command && command.length > 0) return { entrypoint: command[0], args: [...command.slice(1), ...args] };
  return { args };
}

export interface ImageConfig {
  User?: string;
}

/**
 * `docker run` flags for the pod's and the container's securityContext. Throws where the
 * kubelet would refuse to start the container (runAsNonRoot with a root or non-numeric user).
 */
export function securityArgs(pod: Pod, container: any, image: ImageConfig): string[] {
  const podSc = pod.spec.securityContext ?? {};
  const sc = container.securityContext ?? {};
  const args: string[] = [];
  const where = `pod ${pod.name} container ${container.name}`;

  const uid: number | undefined = sc.runAsUser ?? podSc.runAsUser;
  const gid: number | undefined = sc.runAsGroup ?? podSc.runAsGroup;
  const imageUser = (image.User ?? "").split(":")[0];
  if (sc.runAsNonRoot ?? podSc.runAsNonRoot) {
    if (uid === 0) throw new Error(`${where}: runAsNonRoot with runAsUser 0 (CreateContainerConfigError)`);
    if (uid === undefined) {
      if (imageUser === "" || imageUser === "root" || imageUser === "0") throw new Error(`${where}: container has runAsNonRoot and image will run as root (CreateContainerConfigError)`);
      if (!/^\d+$/.test(imageUser)) throw new Error(`${where}: container has runAsNonRoot and image has non-numeric user (${imageUser}), cannot verify user is non-root (CreateContainerConfigError)`);
    }
  }
  if (uid !== undefined || gid !== undefined) {
    const user = uid !== undefined ? String(uid) : imageUser || "0";
    args.push("--user", gid !== undefined ? `${user}:${gid}` : user);
  }
  const groups = [...(podSc.supplementalGroups ?? []), ...(podSc.fsGroup !== undefined ? [podSc.fsGroup] : [])];
  for (const g of new Set(groups)) args.push("--group-add", String(g));

  if (sc.readOnlyRootFilesystem) args.push("--read-only");
  if (sc.allowPrivilegeEscalation === false) args.push("--security-opt", "no-new-privileges");
  if (sc.privileged) args.push("--privileged");
  for (const cap of sc.capabilities?.drop ?? []) args.push("--cap-drop", cap);
  for (const cap of sc.capabilities?.add ?? []) args.push("--cap-add", cap);
  const seccomp = sc.seccompProfile ?? podSc.seccompProfile;
  // Docker's default seccomp profile is the container runtime's default (RuntimeDefault).
  if (seccomp?.type === "Unconfined") args.push("--security-opt", "seccomp=unconfined");
  else if (seccomp?.type === "Localhost") throw new Error(`${where}: seccompProfile Localhost is not supported by this runner`);
  for (const s of podSc.sysctls ?? []) args.push("--sysctl", `${s.name}=${s.value}`);
  return args;
}

/** A container port given by number or by name. */
export function portNumber(container: any, port: number | string, where: string): number {
  if (typeof port === "number") return port;
  if (/^\d+$/.test(port)) return Number(port);
  const found = (container.ports ?? []).find((p: any) => p.name === port);
  if (!found) throw new Error(`${where}: no container port named ${port} (ports: ${(container.ports ?? []).map((p: any) => p.name ?? p.containerPort).join(", ") || "none"})`);
  return found.containerPort;
}

export interface Probe {
  readonly kind: "startup" | "readiness" | "liveness";
  /** http/tcp `host` is the probe's own host field when set; the pod IP otherwise (filled in at run time). */
  readonly action: { http: { port: number; path: string; scheme: string; headers: Record<string, string>; host?: string } } | { tcp: { port: number; host?: string } } | { exec: string[] };
  readonly initialDelaySeconds: number;
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  readonly successThreshold: number;
  readonly failureThreshold: number;
}

/** A container's probes with Kubernetes' defaults filled in. */
export function probesOf(pod: Pod, container: any): Probe[] {
  const where = `pod ${pod.name} container ${container.name}`;
  const probes: Probe[] = [];
  for (const kind of ["startup", "readiness", "liveness"] as const) {
    const p = container[`${kind}Probe`];
    if (!p) continue;
    let action: Probe["action"];
    if (p.httpGet) {
      const headers = Object.fromEntries((p.httpGet.httpHeaders ?? []).map((h: any) => [h.name, h.value]));
      action = { http: { port: portNumber(container, p.httpGet.port, where), path: p.httpGet.path ?? "/", scheme: (p.httpGet.scheme ?? "HTTP").toLowerCase(), headers, ...(p.httpGet.host ? { host: p.httpGet.host } : {}) } };
    } else if (p.tcpSocket) {
      action = { tcp: { port: portNumber(container, p.tcpSocket.port, where), ...(p.tcpSocket.host ? { host: p.tcpSocket.host } : {}) } };
    } else if (p.exec) {
      action = { exec: p.exec.command };
    } else {
      throw new Error(`${where}: ${kind}Probe uses ${Object.keys(p).join(", ")}, which this runner does not support`);
    }
    probes.push({
      kind,
      action,
      initialDelaySeconds: p.initialDelaySeconds ?? 0,
      periodSeconds: p.periodSeconds ?? 10,
      timeoutSeconds: p.timeoutSeconds ?? 1,
      successThreshold: p.successThreshold ?? 1,
      failureThreshold: p.failureThreshold ?? 3,
    });
  }
  return probes;
}

export interface ServicePlan {
  readonly name: string;
  readonly namespace: string;
  /** The names a pod resolves: name, name.namespace, name.namespace.svc, name.namespace.svc.cluster.local. */
  readonly dnsNames: string[];
  readonly headless: boolean;
  readonly pods: string[];
  readonly ports: { port: number; targetPort: number; nodePort?: number }[];
  /**
   * `alias`: every port equals its targetPort, so the DNS names sit on the selected pods themselves
   * (Docker's DNS then answers with every pod, as a Service's endpoints). `forwarder`: a port is
   * remapped or published as a NodePort, so a small forwarder stands in for kube-proxy.
   */
  readonly mode: "alias" | "forwarder";
}

export function dnsNames(name: string, namespace: string): string[] {
  return [name, `${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`];
}

const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** How each Service is reached: its pods, its ports resolved to numbers, alias or forwarder. */
export function servicesOf(objects: K8sObject[], pods: Pod[]): ServicePlan[] {
  const plans: ServicePlan[] = [];
  for (const o of objects) {
    if (o.kind !== "Service") continue;
    const namespace = o.metadata.namespace ?? "default";
    const where = `Service ${namespace}/${o.metadata.name}`;
    if (!o.spec?.selector) throw new Error(`${where} has no selector; this runner only wires Services that select pods`);
    if (o.spec.type === "LoadBalancer" || o.spec.type === "ExternalName") throw new Error(`${where} is of type ${o.spec.type}, which this runner does not emulate`);
    const selected = pods.filter((p) => p.namespace === namespace && matches(o.spec.selector, p.labels));
    if (selected.length === 0) throw new Error(`${where} selects no pod (selector ${JSON.stringify(o.spec.selector)})`);
    const ports = (o.spec.ports ?? []).map((p: any) => {
      // targetPort by name resolves per pod; all pods of one workload agree, so the first decides.
      const container = selected[0].spec.containers.find((c: any) => typeof p.targetPort !== "string" || (c.ports ?? []).some((cp: any) => cp.name === p.targetPort));
      if (!container) throw new Error(`${where}: no container of pod ${selected[0].name} has a port named ${p.targetPort}`);
      const targetPort = p.targetPort === undefined ? p.port : portNumber(container, p.targetPort, where);
      return { port: p.port, targetPort, ...(o.spec.type === "NodePort" && p.nodePort ? { nodePort: p.nodePort } : {}) };
    });
    if (o.spec.type === "NodePort" && ports.some((p: any) => p.nodePort === undefined)) {
      throw new Error(`${where} is a NodePort Service without a fixed nodePort; the runner publishes only fixed ones`);
    }
    const headless = o.spec.clusterIP === "None";
    const aliasable = ports.every((p: any) => p.port === p.targetPort && p.nodePort === undefined);
    plans.push({ name: o.metadata.name, namespace, dnsNames: dnsNames(o.metadata.name, namespace), headless, pods: selected.map((p) => p.name), ports, mode: headless || aliasable ? "alias" : "forwarder" });
  }
  return plans;
}

/** Extra names of a StatefulSet pod under its governing headless Service: `<pod>.<service>...`. */
export function statefulPodNames(pod: Pod, objects: K8sObject[]): string[] {
  if (pod.workload.kind !== "StatefulSet") return [];
  const sts = objects.find((o) => o.kind === "StatefulSet" && o.metadata.name === pod.workload.name && (o.metadata.namespace ?? "default") === pod.namespace);
  const service: string | undefined = sts?.spec?.serviceName;
  if (!service) return [];
  return [`${pod.name}.${service}`, `${pod.name}.${service}.${pod.namespace}`, `${pod.name}.${service}.${pod.namespace}.svc`, `${pod.name}.${service}.${pod.namespace}.svc.cluster.local`];
}

export interface VolumePlan {
  readonly name: string;
  readonly kind: "emptyDir" | "pvc";
  /** emptyDir sizeLimit in bytes (the tmpfs size), if any. */
  readonly sizeBytes?: number;
  /** For PVCs, the claim name (`<template>-<pod>` for StatefulSets). */
  readonly claim?: string;
}

/** The pod's volumes; anything but emptyDir and PVCs (configMap, secret, hostPath...) is refused. */
export function volumesOf(pod: Pod): VolumePlan[] {
  const plans: VolumePlan[] = [];
  for (const v of pod.spec.volumes ?? []) {
    if (v.emptyDir) plans.push({ name: v.name, kind: "emptyDir", ...(v.emptyDir.sizeLimit ? { sizeBytes: bytes(v.emptyDir.sizeLimit) } : {}) });
    else if (v.persistentVolumeClaim) plans.push({ name: v.name, kind: "pvc", claim: v.persistentVolumeClaim.claimName });
    else throw new Error(`pod ${pod.name}: volume ${v.name} is of a kind this runner does not support (${Object.keys(v).filter((k) => k !== "name").join(", ")})`);
  }
  for (const [name, claim] of Object.entries(pod.claims)) plans.push({ name, kind: "pvc", claim });
  return plans;
}
