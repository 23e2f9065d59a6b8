// The translation rules of k8s.ts, on small objects: what the runner hands Docker must be what
// the kubelet would do with the same pod spec.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  bytes, commandArgs, cpuCores, expand, objectStore, podsOf, probesOf, resolveEnv, resourceArgs, securityArgs, servicesOf, statefulPodNames, volumesOf, type K8sObject, type Pod,
} from "./k8s.ts";

const ns = "todo";
const labels = { app: "web" };
const container = { name: "web", image: "web:1", ports: [{ name: "http", containerPort: 3000 }] };
const deployment = (spec: any = {}, replicas = 2): K8sObject => ({
  apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: ns },
  spec: { replicas, template: { metadata: { labels }, spec: { containers: [container], ...spec } } },
});
const pod = (spec: any = {}): Pod => podsOf([deployment(spec, 1)])[0];

describe("quantities", () => {
  it("reads CPU in cores and memory in bytes, binary and decimal", () => {
    assert.equal(cpuCores("500m"), 0.5);
    assert.equal(cpuCores("2"), 2);
    assert.equal(cpuCores(0.25), 0.25);
    assert.equal(bytes("512Mi"), 512 * 2 ** 20);
    assert.equal(bytes("1Gi"), 2 ** 30);
    assert.equal(bytes("128M"), 128e6);
    assert.equal(bytes("1000"), 1000);
  });

  it("names the bad quantity and the allowed forms", () => {
    assert.throws(() => cpuCores("half"), /CPU quantity "half" is not of the form 500m, 1 or 0.5/);
    assert.throws(() => bytes("12 parsecs"), /memory quantity "12 parsecs"/);
  });

  it("turns limits into a hard cgroup limit and requests into shares and a reservation, as the kubelet", () => {
    assert.deepEqual(resourceArgs({ limits: { cpu: "500m", memory: "512Mi" }, requests: { cpu: "100m", memory: "256Mi" } }), [
      "--cpus", "0.5", "--cpu-shares", "102", "--memory", `${512 * 2 ** 20}b`, "--memory-swap", `${512 * 2 ** 20}b`, "--memory-reservation", `${256 * 2 ** 20}b`,
    ]);
    assert.deepEqual(resourceArgs(undefined), []);
  });
});

describe("pods and volumes", () => {
  it("makes one pod per replica, and per-pod claims from a StatefulSet's templates", () => {
    assert.deepEqual(podsOf([deployment()]).map((p) => p.name), ["web-0", "web-1"]);
    const sts: K8sObject = {
      apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "db", namespace: ns },
      spec: { replicas: 1, serviceName: "db-headless", template: { metadata: { labels: { app: "db" } }, spec: { containers: [{ name: "db", image: "db:1" }], volumes: [{ name: "run", emptyDir: { sizeLimit: "16Mi" } }] } }, volumeClaimTemplates: [{ metadata: { name: "data" } }] },
    };
    const [dbPod] = podsOf([sts]);
    assert.deepEqual(volumesOf(dbPod), [{ name: "run", kind: "emptyDir", sizeBytes: 16 * 2 ** 20 }, { name: "data", kind: "pvc", claim: "data-db-0" }]);
    assert.deepEqual(statefulPodNames(dbPod, [sts]), ["db-0.db-headless", "db-0.db-headless.todo", "db-0.db-headless.todo.svc", "db-0.db-headless.todo.svc.cluster.local"]);
  });

  it("refuses volume kinds it cannot emulate, naming them", () => {
    assert.throws(() => volumesOf(pod({ volumes: [{ name: "host", hostPath: { path: "/" } }] })), /volume host is of a kind this runner does not support \(hostPath\)/);
  });
});

describe("environment", () => {
  const objects: K8sObject[] = [
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg", namespace: ns }, data: { PORT: "8000", MODE: "x" } },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "sec", namespace: ns }, data: { TOKEN: Buffer.from("s3cret").toString("base64") }, stringData: { URL: "postgres://db" } },
  ];
  const store = objectStore(objects);

  it("resolves envFrom, configMapKeyRef, secretKeyRef (data and stringData), fieldRef and $(VAR)", () => {
    const c = {
      name: "web",
      envFrom: [{ configMapRef: { name: "cfg" }, prefix: "CFG_" }],
      env: [
        { name: "PORT", valueFrom: { configMapKeyRef: { name: "cfg", key: "PORT" } } },
        { name: "TOKEN", valueFrom: { secretKeyRef: { name: "sec", key: "TOKEN" } } },
        { name: "URL", valueFrom: { secretKeyRef: { name: "sec", key: "URL" } } },
        { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        { name: "LISTEN", value: "0.0.0.0:$(PORT) $(UNSET) $$(PORT)" },
        { name: "MISSING", valueFrom: { secretKeyRef: { name: "sec", key: "NOPE", optional: true } } },
      ],
    };
    assert.deepEqual(resolveEnv(pod(), c, store), {
      CFG_PORT: "8000", CFG_MODE: "x", PORT: "8000", TOKEN: "s3cret", URL: "postgres://db", POD: "web-0", LISTEN: "0.0.0.0:8000 $(UNSET) $(PORT)",
    });
  });

  it("fails as the kubelet would on a missing key, naming the object and its keys", () => {
    const c = { name: "web", env: [{ name: "X", valueFrom: { secretKeyRef: { name: "sec", key: "NOPE" } } }] };
    assert.throws(() => resolveEnv(pod(), c, store), /Secret todo\/sec has no key NOPE; it has TOKEN, URL \(CreateContainerConfigError\)/);
    const d = { name: "web", env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "other", key: "A" } } }] };
    assert.throws(() => resolveEnv(pod(), d, store), /ConfigMap todo\/other is not among the rendered objects/);
  });

  it("maps command to the entrypoint and args to the command, expanding $(VAR)", () => {
    assert.deepEqual(commandArgs({ command: ["node", "dist/migrate.js"], args: ["--to=$(V)"] }, { V: "3" }), { entrypoint: "node", args: ["dist/migrate.js", "--to=3"] });
    assert.deepEqual(commandArgs({ args: ["serve"] }, {}), { args: ["serve"] });
    assert.equal(expand("$(A)$(B)", { A: "1" }), "1$(B)");
  });
});

describe("securityContext", () => {
  const restricted = {
    securityContext: { runAsUser: 10001, runAsGroup: 10001, runAsNonRoot: true, fsGroup: 10001, seccompProfile: { type: "RuntimeDefault" } },
  };
  const hardened = { ...container, securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } } };

  it("applies user, group, fsGroup, read-only root, no new privileges and dropped capabilities", () => {
    assert.deepEqual(securityArgs(pod(restricted), hardened, { User: "10001:10001" }), [
      "--user", "10001:10001", "--group-add", "10001", "--read-only", "--security-opt", "no-new-privileges", "--cap-drop", "ALL",
    ]);
  });

  it("refuses runAsNonRoot when the image would run as root or as a name it cannot check", () => {
    const nonRoot = { securityContext: { runAsNonRoot: true } };
    assert.throws(() => securityArgs(pod(nonRoot), container, {}), /runAsNonRoot and image will run as root/);
    assert.throws(() => securityArgs(pod(nonRoot), container, { User: "node" }), /non-numeric user \(node\)/);
    assert.deepEqual(securityArgs(pod(nonRoot), container, { User: "1000" }), []);
  });
});

describe("probes and Services", () => {
  it("fills in Kubernetes' probe defaults and resolves named ports", () => {
    const c = { ...container, readinessProbe: { httpGet: { path: "/ready", port: "http" } }, startupProbe: { exec: { command: ["true"] }, failureThreshold: 30, periodSeconds: 2 } };
    assert.deepEqual(probesOf(pod(), c), [
      { kind: "startup", action: { exec: ["true"] }, initialDelaySeconds: 0, periodSeconds: 2, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 30 },
      { kind: "readiness", action: { http: { port: 3000, path: "/ready", scheme: "http", headers: {} } }, initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
    ]);
    assert.throws(() => probesOf(pod(), { ...container, livenessProbe: { httpGet: { port: "metrics" } } }), /no container port named metrics \(ports: http\)/);
  });

  it("aliases a Service whose ports match, and forwards one that remaps a port or has a NodePort", () => {
    const svc = (name: string, spec: any): K8sObject => ({ apiVersion: "v1", kind: "Service", metadata: { name, namespace: ns }, spec: { selector: labels, ...spec } });
    const objects = [deployment(), svc("same", { ports: [{ port: 3000, targetPort: "http" }] }), svc("public", { type: "NodePort", ports: [{ port: 80, targetPort: "http", nodePort: 30080 }] })];
    const plans = servicesOf(objects, podsOf(objects));
    assert.deepEqual(plans.map((p) => [p.name, p.mode, p.pods, p.ports]), [
      ["same", "alias", ["web-0", "web-1"], [{ port: 3000, targetPort: 3000 }]],
      ["public", "forwarder", ["web-0", "web-1"], [{ port: 80, targetPort: 3000, nodePort: 30080 }]],
    ]);
    assert.deepEqual(plans[0].dnsNames, ["same", "same.todo", "same.todo.svc", "same.todo.svc.cluster.local"]);
    assert.throws(() => servicesOf([deployment(), svc("none", { selector: { app: "nothing" }, ports: [] })], podsOf([deployment()])), /Service todo\/none selects no pod/);
  });
});
