// `npm run test:e2e`: the minikube stack as the program renders it, applied to a real Kubernetes
// cluster on this machine (scripts/local-cluster.sh: built from source, the node's Docker Engine
// building the images the kubelet runs), and used through the frontend's NodePort by an HTTP
// client and by Chromium. See e2e/README.md for what this checks and what it does not.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { ApiClient } from "./api.ts";
import { ensureBaseImage } from "./base-images.ts";
import { launchBrowser } from "./browser.ts";
import { Docker } from "./docker.ts";
import { baseImagesOf, buildImage, type ImageBuild } from "./images.ts";
import { clusterEnv, Kube, nodeProcessMemoryMiB, type ClusterEnv } from "./kube.ts";
import type { renderStack as RenderStack } from "../../render/index.ts";
import { load } from "./load.ts";
import { log } from "./log.ts";
import { renderFigures, writeFigures, type Figures } from "./results.ts";

const E2E = join(dirname(fileURLToPath(import.meta.url)), "..");
const ROOT = join(E2E, "..");
const STACK = "minikube";
const ARTIFACTS = join(E2E, "artifacts");
const CLUSTER = join(ROOT, "scripts", "local-cluster.sh");
const NODE_COMPONENTS = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "containerd", "dockerd", "kubelet", "kube-proxy", "hostpath-provisioner", "kube-router"];

// render/index.ts is CommonJS TypeScript; loaded through require so its __dirname is its own.
const { renderStack } = createRequire(import.meta.url)(join(ROOT, "render", "index.ts")) as {
  renderStack: typeof RenderStack;
};

const runId = `${process.pid}-${Date.now().toString(36)}`;
const figures: Figures = { startedAt: new Date(), baseImages: [], builds: [], readiness: [], restarts: [], memoryIdle: {}, memoryAfter: {}, memoryLimits: {}, nodeMemory: {} };
const started = Date.now();

let env: ClusterEnv;
let kube: Kube;
let docker: Docker;
let startedCluster = false;
let stoppedCluster = false;
let origin: string;
let ns: string;

const api = () => new ApiClient(origin);
const account = (who: string) => ({ name: `E2E ${who}`, email: `e2e-${who}-${runId}@example.test`, password: `pw-${runId}-${who}-long` });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A signed-up user's client (the session cookie set by sign-up itself: autoSignIn). */
async function signUp(who: string): Promise<ApiClient> {
  const client = api();
  const a = account(who);
  await client.expect(200, "POST", "/api/auth/sign-up/email", a);
  const session = await client.expect(200, "GET", "/api/auth/get-session");
  assert.equal(session?.user?.email, a.email, "the session after sign-up is the new user's");
  return client;
}

/** Requests from `workers` loops until `stop` resolves; the statuses (0: no answer) of every one. */
async function trafficDuring(client: ApiClient, workers: number, stop: Promise<unknown>): Promise<number[]> {
  let stopping = false;
  void stop.finally(() => (stopping = true));
  const statuses: number[] = [];
  const worker = async () => {
    while (!stopping) statuses.push(await client.request("GET", "/api/tasks").then((r) => r.status, () => 0));
  };
  await Promise.all([stop, ...Array.from({ length: workers }, worker)]);
  return statuses;
}

const workloads = (objects: any[]) => objects.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet");

describe(`the ${STACK} stack on a real Kubernetes cluster`, { timeout: 80 * 60_000 }, () => {
  let apiUser: ApiClient;
  const apiTaskTitles = ["Renew the passport", "buy oat milk"];
  let images: ImageBuild[] = [];
  let objects: any[] = [];

  before(async () => {
    // The cluster's binaries: built once, then reused from the cache (the warm figure).
    const b0 = Date.now();
    const build = await execa(join(ROOT, "cluster", "build.sh"), [], { stderr: "inherit", reject: false });
    if (build.exitCode !== 0) throw new Error(`cluster/build.sh failed (exit ${build.exitCode}); its output is above`);
    figures.clusterBuildSeconds = (Date.now() - b0) / 1000;
    const status = await execa(CLUSTER, ["status"], { reject: false });
    if (!/kubelet\s+running/.test(String(status.stdout))) {
      log("starting the local cluster: scripts/local-cluster.sh up");
      const t0 = Date.now();
      const up = await execa(CLUSTER, ["up"], { stdout: "inherit", stderr: "inherit", reject: false });
      if (up.exitCode !== 0) throw new Error(`scripts/local-cluster.sh up failed (exit ${up.exitCode}); its output is above`);
      startedCluster = true;
      figures.clusterUpSeconds = (Date.now() - t0) / 1000;
    }
    env = await clusterEnv(ROOT);
    Object.assign(process.env, env);
    kube = new Kube(env);
    figures.nodeReadySeconds = Number(readFileSync(join(env.TODO_CLUSTER_HOME, "node-ready-seconds"), "utf8"));
    const set = readFileSync(join(env.TODO_CLUSTER_HOME, "set"), "utf8").trim();
    docker = new Docker({ cli: "docker", buildx: join(set, "bin", "buildx") });
    figures.serverVersion = JSON.parse((await kube.run(["version", "-o", "json"])).stdout).serverVersion.gitVersion;
    figures.engine = (await docker.run(["version", "--format", "{{.Server.Version}}"])).stdout.trim();
    figures.machine = `${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
    figures.toolBuilds = readBuildTimes(join(dirname(set), "build-times"));
    log(`run ${runId}: Kubernetes ${figures.serverVersion}, node Docker Engine ${figures.engine}`);
  });

  after(async () => {
    try {
      if (!stoppedCluster) await saveDiagnostics();
      if (startedCluster && !stoppedCluster && !process.env.E2E_KEEP_CLUSTER) {
        log("stopping the local cluster this run started (E2E_KEEP_CLUSTER=1 keeps it)");
        await execa(CLUSTER, ["down"], { stdout: "inherit", stderr: "inherit", reject: false });
      }
    } finally {
      figures.outcome ??= "NOT all steps passed (see the test report)";
      figures.totalSeconds = (Date.now() - started) / 1000;
      // A run that built nothing has no figures worth keeping: print, but leave results.md be.
      const text = figures.builds.length > 0 ? writeFigures(join(E2E, "results.md"), figures) : renderFigures(figures);
      process.stdout.write(`\n${text}\n`);
    }
  });

  it("runs the pinned Kubernetes release with a Ready node", async () => {
    const pinned = /^KUBERNETES_VERSION=(\S+)/m.exec(readFileSync(join(ROOT, "cluster", "versions.env"), "utf8"))![1];
    assert.equal(figures.serverVersion, pinned);
    const nodes = (await kube.json(["get", "nodes"])).items;
    assert.equal(nodes.length, 1);
    assert.equal(nodes[0].status.conditions.find((c: any) => c.type === "Ready").status, "True");
    assert.equal(nodes[0].status.nodeInfo.kubeletVersion, pinned);
  });

  it("renders the stack with its secrets, and finds an image build for every app image a pod runs", async () => {
    const rendered = await renderStack({ stack: STACK, secrets: "reveal", config: { kubeContext: env.TODO_CLUSTER_CONTEXT, minikubeProfile: "" } });
    images = rendered.images;
    objects = rendered.objects;
    ns = objects.find((o) => o.kind === "Namespace").metadata.name;
    const podImages = workloads(objects).flatMap((o) => [...(o.spec.template.spec.initContainers ?? []), ...o.spec.template.spec.containers].map((c: any) => c.image));
    assert.ok(images.length > 0, "the render declares image builds");
    for (const b of images) assert.ok(podImages.includes(b.imageName), `a pod runs the built image ${b.imageName}`);
  });

  it("has every base image in the node's Docker Engine: present, pulled, or a local stand-in under the same tag", async () => {
    const builtNames = new Set(images.map((b) => b.imageName));
    const podImages = workloads(objects).flatMap((o) => o.spec.template.spec.containers.map((c: any) => c.image as string));
    const refs = [...new Set([...images.flatMap((b) => baseImagesOf(b.dockerfile, b.args)), ...podImages.filter((i) => !builtNames.has(i))])];
    for (const ref of refs) {
      const b = await ensureBaseImage(docker, ref);
      log(`base image ${ref}: ${b.source} (${b.seconds.toFixed(1)} s)`);
      figures.baseImages.push(b);
    }
  });

  it("builds each app image into the node's daemon as declared: cold, then warm after a one-line change", async () => {
    for (const b of images) figures.builds.push(await buildImage(docker, b, runId));
    for (const b of figures.builds) assert.ok(b.appLayerBytes > 0, `${b.imageName} adds layers to its base`);
  });

  it("applies every rendered object and rolls every workload out", async () => {
    const t0 = Date.now();
    // The namespace first: everything else lives in it.
    await kube.apply(objects.filter((o) => o.kind === "Namespace"));
    await kube.apply(objects.filter((o) => o.kind !== "Namespace"));
    for (const w of workloads(objects)) await kube.rolloutStatus(ns, `${w.kind.toLowerCase()}/${w.metadata.name}`);
    figures.applyToReadySeconds = (Date.now() - t0) / 1000;
    const pods = await kube.pods(ns);
    figures.readiness = Kube.readiness(pods);
    for (const r of figures.readiness) assert.ok(r.startToReadySeconds >= 0, `${r.pod}/${r.container} became ready`);
    const svc = objects.find((o) => o.kind === "Service" && o.spec.type === "NodePort");
    assert.ok(svc, "the stack publishes a NodePort Service");
    const node = (await kube.json(["get", "nodes"])).items[0];
    const address = node.status.addresses.find((a: any) => a.type === "InternalIP").address;
    origin = `http://${address}:${svc.spec.ports[0].nodePort}`;
    await sleep(5000); // start-up work settles before the idle figure
    figures.memoryIdle = await kube.memoryMiB(ns);
    figures.nodeMemory = nodeProcessMemoryMiB(env, NODE_COMPONENTS);
    recordMemoryLimits(pods);
  });

  it("refuses a pod without the restricted security settings in the namespace (Pod Security admission)", async () => {
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "unrestricted", namespace: ns }, spec: { containers: [{ name: "c", image: images[0].imageName }] } };
    const r = await kube.run(["create", "--dry-run=server", "-f", "-"], { input: JSON.stringify(pod), reject: false });
    assert.notEqual(r.exitCode, 0, "the API server admitted a pod without the restricted settings");
    assert.match(r.stderr, /violates PodSecurity "restricted:latest"/);
    // ...while the program's own pods were admitted under the same policy.
    assert.equal((await kube.json(["get", "namespace", ns])).metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
  });

  it("resolves every Service's DNS names through the cluster's DNS, and connects where the apps do", async () => {
    const [backend] = await kube.pods(ns, "app.kubernetes.io/name=todo-backend");
    const [frontend] = await kube.pods(ns, "app.kubernetes.io/name=todo-frontend");
    assert.ok(backend && frontend, "a backend and a frontend pod to look from");
    const wrong: string[] = [];
    const names = (svc: string) => [svc, `${svc}.${ns}`, `${svc}.${ns}.svc`, `${svc}.${ns}.svc.cluster.local`];
    for (const svc of (await kube.json(["-n", ns, "get", "services"])).items) {
      // A ClusterIP Service resolves to its address, a headless one to its ready pods'.
      const expected = svc.spec.clusterIP === "None"
        ? (await kube.json(["-n", ns, "get", "endpointslices", "-l", `kubernetes.io/service-name=${svc.metadata.name}`])).items.flatMap((e: any) => e.endpoints.filter((x: any) => x.conditions.ready).flatMap((x: any) => x.addresses)).sort()
        : [svc.spec.clusterIP];
      for (const name of names(svc.metadata.name)) {
        // Through the pod's resolv.conf (cluster DNS and its search path), as the apps resolve.
        const got = await lookupFrom(backend, name);
        if (JSON.stringify(got) !== JSON.stringify(expected)) wrong.push(`${name}: ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
      }
    }
    // The connections the apps make: the frontend to the backend, the backend to PostgreSQL.
    for (const [from, svc] of [[frontend, "todo-backend"], [backend, "todo-postgres"], [backend, "todo-postgres-headless"]] as const) {
      const port = objects.find((o) => o.kind === "Service" && o.metadata.name === svc).spec.ports[0].port;
      for (const name of names(svc)) {
        const why = await connectFrom(from, name, port);
        if (why) wrong.push(`${from.metadata.name} -> ${name}:${port}: ${why}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it("enforces the NetworkPolicies: the frontend reaches the backend but not PostgreSQL", async () => {
    const [frontend] = await kube.pods(ns, "app.kubernetes.io/name=todo-frontend");
    const backendSvc = objects.find((o) => o.kind === "Service" && o.metadata.name === "todo-backend");
    const postgresSvc = objects.find((o) => o.kind === "Service" && o.metadata.name === "todo-postgres");
    assert.equal(await connectFrom(frontend, backendSvc.metadata.name, backendSvc.spec.ports[0].port), undefined, "frontend -> backend is allowed");
    const blocked = await connectFrom(frontend, postgresSvc.metadata.name, postgresSvc.spec.ports[0].port);
    assert.ok(blocked, "frontend -> PostgreSQL must be blocked by the NetworkPolicies, but it connected");
    assert.match(blocked, /timeout|ECONNREFUSED|EHOSTUNREACH/);
  });

  it("answers /health through the NodePort", async () => {
    const r = await api().request("GET", "/health");
    assert.equal(r.status, 200, r.text);
  });

  it("signs a user up, adds a task through the API and one through the chat, and lists both", async () => {
    apiUser = await signUp("api");
    const created = await apiUser.expect(201, "POST", "/api/tasks", { title: apiTaskTitles[0], priority: "high" });
    assert.equal(created.title, apiTaskTitles[0]);
    const chat = await apiUser.expect(200, "POST", "/api/chat", { message: `add ${apiTaskTitles[1]}` });
    assert.ok(chat.toolCalls.some((t: any) => t.tool === "add_task"), `the chat called add_task: ${JSON.stringify(chat)}`);
    const list = await apiUser.expect(200, "GET", "/api/tasks?status=all");
    // The assistant may tidy a title (capitalise it); the words are the user's.
    assert.deepEqual(list.tasks.map((t: any) => t.title.toLowerCase()).sort(), apiTaskTitles.map((t) => t.toLowerCase()).sort());
    assert.equal(list.total, 2);
    // Another user sees none of them.
    const other = await signUp("other");
    assert.equal((await other.expect(200, "GET", "/api/tasks")).total, 0);
  });

  it("does the same in headless Chromium, and saves a screenshot of the signed-in app", async () => {
    const { browser, close } = await launchBrowser();
    try {
      const page = await browser.newPage();
      const a = account("browser");
      await page.goto(origin + "/");
      await page.waitForURL((url) => url.pathname === "/sign-in");
      await page.getByRole("link", { name: "Create an account" }).click();
      await page.getByLabel("Name").fill(a.name);
      await page.getByLabel("Email").fill(a.email);
      await page.getByLabel("Password").fill(a.password);
      await page.getByRole("button", { name: "Create account" }).click();
      await page.getByRole("heading", { name: "Tasks" }).waitFor();
      await page.getByLabel("New task").fill("Call the dentist");
      await page.getByRole("button", { name: "Add", exact: true }).click();
      await page.locator(".task-list li.task", { hasText: "Call the dentist" }).waitFor();
      await page.getByLabel("Message to the assistant").fill("add water the plants");
      await page.keyboard.press("Enter");
      await page.locator(".message.assistant").last().getByText("add_task").waitFor();
      await page.locator(".task-list li.task", { hasText: "water the plants" }).waitFor();
      assert.equal(await page.locator(".task-list li.task").count(), 2);
      mkdirSync(ARTIFACTS, { recursive: true });
      const shot = join(ARTIFACTS, "signed-in-with-chat-task.png");
      await page.screenshot({ path: shot, fullPage: true });
      log(`screenshot: ${shot}`);
    } finally {
      await close();
    }
  });

  it("keeps the data when the PostgreSQL pod is deleted and comes back", async () => {
    const before = (await apiUser.expect(200, "GET", "/api/tasks?status=all")).tasks.map((t: any) => t.id).sort();
    const sts = workloads(objects).find((o) => o.kind === "StatefulSet");
    const [pod] = await kube.pods(ns, `app.kubernetes.io/name=${sts.metadata.name}`);
    await kube.run(["-n", ns, "delete", "pod", pod.metadata.name, "--wait=true"]);
    await kube.rolloutStatus(ns, `statefulset/${sts.metadata.name}`);
    await kube.run(["-n", ns, "wait", "--for=condition=Ready", `pod/${pod.metadata.name}`, "--timeout=120s"], { timeoutMs: 150_000 });
    figures.restarts.push(...Kube.readiness(await kube.pods(ns, `app.kubernetes.io/name=${sts.metadata.name}`)));
    // The backend's pool meets a new server; its readiness says when it is back.
    await kube.rolloutStatus(ns, "deployment/todo-backend");
    const after = (await waitFor(() => apiUser.expect(200, "GET", "/api/tasks?status=all"), 60_000)).tasks.map((t: any) => t.id).sort();
    assert.deepEqual(after, before);
  });

  it("answers every request while the backend is restarted (`kubectl rollout restart`), and users stay signed in", async () => {
    const statuses = await trafficDuring(apiUser, 8, (async () => {
      await sleep(1000);
      await kube.run(["-n", ns, "rollout", "restart", "deployment/todo-backend"]);
      await kube.rolloutStatus(ns, "deployment/todo-backend");
      // The old pod's preStop pause and drain end after the rollout reports done.
      await kube.run(["-n", ns, "wait", "--for=delete", "pod", "-l", "app.kubernetes.io/name=todo-backend", "--field-selector=status.phase!=Running", "--timeout=60s"], { reject: false });
      await sleep(8000);
    })());
    const failed = statuses.filter((s) => !(s >= 200 && s < 300));
    figures.rollout = { requests: statuses.length, failed: failed.length };
    assert.ok(statuses.length > 50, `requests were made during the rollout (${statuses.length})`);
    assert.deepEqual(failed, [], "every request during the rollout succeeded");
    // The new pod only: the old one may still be listed while it terminates.
    figures.restarts.push(...Kube.readiness((await kube.pods(ns, "app.kubernetes.io/name=todo-backend")).filter((p) => !p.metadata.deletionTimestamp)));
    const session = await apiUser.expect(200, "GET", "/api/auth/get-session");
    assert.equal(session?.user?.email, account("api").email);
    assert.equal((await apiUser.expect(200, "GET", "/api/tasks?status=all")).total, 2);
  });

  it("binds the PostgreSQL claim, and keeps it and its data when the StatefulSet is deleted (Retain)", async () => {
    const sts = workloads(objects).find((o) => o.kind === "StatefulSet");
    const claim = `${sts.spec.volumeClaimTemplates[0].metadata.name}-${sts.metadata.name}-0`;
    const pvc = await kube.json(["-n", ns, "get", "pvc", claim]);
    assert.equal(pvc.status.phase, "Bound");
    const volume = pvc.spec.volumeName;
    await kube.run(["-n", ns, "delete", "statefulset", sts.metadata.name, "--wait=true"]);
    await kube.run(["-n", ns, "wait", "--for=delete", `pod/${sts.metadata.name}-0`, "--timeout=120s"], { reject: false, timeoutMs: 150_000 });
    const kept = await kube.json(["-n", ns, "get", "pvc", claim]);
    assert.equal(kept.metadata.uid, pvc.metadata.uid, "the same claim is still there");
    assert.equal(kept.status.phase, "Bound");
    // Applied again, the StatefulSet's pod mounts the same volume and the users' data is there.
    await kube.apply([sts]);
    await kube.rolloutStatus(ns, `statefulset/${sts.metadata.name}`);
    assert.equal((await kube.json(["-n", ns, "get", "pvc", claim])).spec.volumeName, volume);
    await kube.rolloutStatus(ns, "deployment/todo-backend");
    const list = await waitFor(() => apiUser.expect(200, "GET", "/api/tasks?status=all"), 90_000);
    assert.equal(list.total, 2);
  });

  it("provisions claims of the default StorageClass as host directories and honours the reclaim policy", async () => {
    const scratch = `e2e-storage-${runId}`.toLowerCase().replace(/[^a-z0-9-]/g, "-");
    const retain = `${scratch}-retain`;
    const defaults = (await kube.json(["get", "storageclass"])).items.filter((c: any) => c.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true");
    assert.equal(defaults.length, 1, "exactly one default StorageClass");
    const klass = defaults[0];
    const claim = (name: string, storageClassName?: string) => ({
      apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name, namespace: scratch },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "16Mi" } }, ...(storageClassName ? { storageClassName } : {}) },
    });
    await kube.apply([{ apiVersion: "v1", kind: "Namespace", metadata: { name: scratch } }]);
    try {
      await kube.apply([
        { apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name: retain }, provisioner: klass.provisioner, reclaimPolicy: "Retain", volumeBindingMode: "Immediate" },
        claim("by-default"),
        claim("retained", retain),
      ]);
      const bound = async (name: string) => {
        await kube.run(["-n", scratch, "wait", "--for=jsonpath={.status.phase}=Bound", `pvc/${name}`, "--timeout=60s"], { timeoutMs: 90_000 });
        const pv = await kube.json(["get", "pv", (await kube.json(["-n", scratch, "get", "pvc", name])).spec.volumeName]);
        assert.ok(existsSync(pv.spec.hostPath.path), `${name}: its volume's directory ${pv.spec.hostPath.path} exists on the node`);
        return pv;
      };
      const deleted = await bound("by-default");
      const kept = await bound("retained");
      assert.equal(deleted.spec.persistentVolumeReclaimPolicy, klass.reclaimPolicy ?? "Delete");
      assert.equal(kept.spec.persistentVolumeReclaimPolicy, "Retain");
      await kube.run(["-n", scratch, "delete", "pvc", "by-default", "retained", "--wait=true"]);
      // Delete: the PV and its directory go. Retain: both stay, the PV Released.
      await kube.run(["wait", "--for=delete", `pv/${deleted.metadata.name}`, "--timeout=60s"], { timeoutMs: 90_000 });
      assert.equal(existsSync(deleted.spec.hostPath.path), false, "the Delete volume's directory is removed");
      await waitFor(async () => assert.equal((await kube.json(["get", "pv", kept.metadata.name])).status.phase, "Released"), 30_000);
      assert.ok(existsSync(kept.spec.hostPath.path), "the Retain volume's directory is kept");
      await kube.run(["delete", "pv", kept.metadata.name]);
    } finally {
      await kube.run(["delete", "namespace", scratch, "--wait=false"], { reject: false });
      await kube.run(["delete", "storageclass", retain], { reject: false });
    }
  });

  it("lets the frontend's PodDisruptionBudget evict one of its two pods at a time", async () => {
    const pdb = objects.find((o) => o.kind === "PodDisruptionBudget" && o.metadata.name.includes("frontend"));
    assert.ok(pdb, "the frontend has a PodDisruptionBudget");
    const selector = Object.entries(pdb.spec.selector.matchLabels).map(([k, v]) => `${k}=${v}`).join(",");
    const pods = (await kube.pods(ns, selector)).filter((p) => !p.metadata.deletionTimestamp);
    assert.equal(pods.length, 2);
    await waitFor(async () => assert.equal((await kube.json(["-n", ns, "get", "pdb", pdb.metadata.name])).status.disruptionsAllowed, 1), 30_000);
    const evict = (pod: string) =>
      kube.run(["create", "--raw", `/api/v1/namespaces/${ns}/pods/${pod}/eviction`, "-f", "-"], {
        input: JSON.stringify({ apiVersion: "policy/v1", kind: "Eviction", metadata: { name: pod, namespace: ns } }),
        reject: false,
      });
    const first = await evict(pods[0].metadata.name);
    assert.equal(first.exitCode, 0, `the first eviction is allowed: ${first.stderr}`);
    const second = await evict(pods[1].metadata.name);
    assert.notEqual(second.exitCode, 0, "the second eviction, while the first pod's replacement is not ready, is refused");
    assert.match(second.stderr, /disruption budget|TooManyRequests|Cannot evict/i);
    await kube.rolloutStatus(ns, "deployment/todo-frontend");
  });

  it("serves GET /api/tasks under load through the NodePort (figures only)", async () => {
    // The frontend's own /health under the same load first: a yardstick from the same minute of
    // this shared machine, so the API figure reads as a ratio rather than an absolute.
    figures.loadBaseline = await load(`${origin}/health`, {}, 16, 10);
    figures.loadAverage = loadavg()[0];
    figures.load = await load(`${origin}/api/tasks`, { cookie: apiUser.cookieHeader() }, 16, 20);
    for (const l of [figures.loadBaseline, figures.load]) {
      log(`load ${l.url}: ${l.requestsPerSecond.toFixed(1)} req/s, p99 ${l.p99Ms} ms, ${l.non2xx} non-2xx, ${l.errors} errors`);
      assert.ok(l.requests > 0, "requests were served");
      assert.equal(l.non2xx + l.errors + l.timeouts, 0, `every request to ${l.url} under load succeeded`);
    }
    figures.memoryAfter = await kube.memoryMiB(ns);
    recordMemoryLimits(await kube.pods(ns));
  });

  it("stayed healthy throughout: no container restarted", async () => {
    const restarted = (await kube.pods(ns)).flatMap((p) => (p.status.containerStatuses ?? []).filter((s: any) => s.restartCount > 0).map((s: any) => `${p.metadata.name}/${s.name}: ${s.restartCount} restarts, last ${JSON.stringify(s.lastState)}`));
    assert.deepEqual(restarted, []);
    if (!startedCluster) figures.outcome = "all steps passed";
  });

  it("stops every process the cluster started and removes its data (`local-cluster.sh down`)", async (t) => {
    if (!startedCluster || process.env.E2E_KEEP_CLUSTER) return t.skip("the cluster was running before this run, or E2E_KEEP_CLUSTER is set: it is left up");
    await saveDiagnostics();
    const pids = NODE_COMPONENTS.map((c) => Number(readFileSync(join(env.TODO_CLUSTER_HOME, "run", `${c}.pid`), "utf8")));
    const down = await execa(CLUSTER, ["down"], { reject: false });
    assert.equal(down.exitCode, 0, String(down.stderr));
    stoppedCluster = true;
    const alive = pids.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    assert.deepEqual(alive, [], "no process of the cluster is left");
    assert.equal(existsSync(env.TODO_CLUSTER_HOME), false, "its state folder is gone");
    const links = (await execa("ip", ["-o", "link"])).stdout;
    assert.doesNotMatch(links, /todo-(cni|docker)0/, "its bridges are gone");
    const rules = (await execa("iptables-save")).stdout;
    assert.doesNotMatch(rules, /KUBE-|todo-docker0/, "its iptables chains and rules are gone");
    assert.doesNotMatch((await execa("ipset", ["list", "-n"])).stdout, /^KUBE-/m, "kube-router's ipsets are gone");
    figures.outcome = "all steps passed";
  });
});

/** The addresses `name` resolves to inside `pod` (its first container runs node), sorted; or the error code. */
async function lookupFrom(pod: any, name: string): Promise<string[] | string> {
  const script = `require("dns").lookup(${JSON.stringify(name)},{all:true},(e,a)=>{console.log(JSON.stringify(e?e.code:a.map(x=>x.address).sort()))})`;
  const r = await kube.exec(ns, pod.metadata.name, pod.spec.containers[0].name, ["node", "-e", script]);
  try {
    return JSON.parse(r.stdout);
  } catch {
    return (r.stdout + r.stderr).trim();
  }
}

/** Opens a TCP connection from inside `pod` (its first container runs node); undefined when it connects, else why not. */
async function connectFrom(pod: any, host: string, port: number): Promise<string | undefined> {
  const script = `const n=require("net");const s=n.connect(${port},${JSON.stringify(host)});s.setTimeout(4000,()=>{console.log("timeout");process.exit(1)});s.on("connect",()=>{console.log("ok",s.remoteAddress);process.exit(0)});s.on("error",e=>{console.log(e.code);process.exit(1)})`;
  const r = await kube.exec(ns, pod.metadata.name, pod.spec.containers[0].name, ["node", "-e", script]);
  return r.exitCode === 0 ? undefined : (r.stdout + r.stderr).trim() || `exit ${r.exitCode}`;
}

/** The namespace's pods, events and logs, kept in artifacts/logs for after the run. */
async function saveDiagnostics(): Promise<void> {
  if (!kube || !ns) return;
  const logs = join(ARTIFACTS, "logs");
  rmSync(logs, { recursive: true, force: true });
  mkdirSync(logs, { recursive: true });
  writeFileSync(join(logs, "diagnose.txt"), await kube.diagnose(ns).catch((e) => String(e)));
  log(`pods, events and logs of ${ns} kept in ${logs}`);
}

/** Retries `f` until it succeeds or `ms` pass (then throws its last error). */
async function waitFor<T>(f: () => Promise<T>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await f();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(1000);
    }
  }
}

/** Each container's memory limit as the API server holds it, for the memory table. */
function recordMemoryLimits(pods: any[]): void {
  for (const p of pods) for (const c of p.spec.containers) figures.memoryLimits[`${p.metadata.name}/${c.name}`] = memoryMiBOf(c.resources?.limits?.memory);
}

function memoryMiBOf(q?: string): number {
  if (!q) return NaN;
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi)?$/.exec(q);
  if (!m) return NaN;
  return Number(m[1]) * ({ Ki: 1 / 1024, Mi: 1, Gi: 1024 } as Record<string, number>)[m[2] ?? "Mi"];
}

function readBuildTimes(path: string): { name: string; version: string; seconds: number }[] {
  try {
    // The file keeps every build ever made; the latest of each project is the one in use.
    const latest = new Map<string, { name: string; version: string; seconds: number }>();
    for (const l of readFileSync(path, "utf8").split("\n").filter(Boolean)) {
      const [name, version, seconds] = l.split(" ");
      latest.set(name, { name, version, seconds: Number(seconds) });
    }
    return [...latest.values()];
  } catch {
    return [];
  }
}
