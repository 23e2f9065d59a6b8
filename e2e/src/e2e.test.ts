// `npm run test:e2e`: the minikube stack as the program renders it, run on a real Docker Engine
// with the real images, used through the frontend's NodePort by an HTTP client and by Chromium.
// See e2e/README.md for what this checks and what it does not.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ApiClient } from "./api.ts";
import { ensureBaseImage } from "./base-images.ts";
import { launchBrowser } from "./browser.ts";
import { Cluster } from "./cluster.ts";
import { Docker } from "./docker.ts";
import { ensureEngine, type Engine } from "./engine.ts";
import { cleanUpOnSignals, newRunId, removeRun, removeStaleRuns, saveLogs } from "./hygiene.ts";
import { baseImagesOf, buildImage, type ImageBuild } from "./images.ts";
import type { renderStack as RenderStack } from "../../render/index.ts";
import { bytes, cpuCores } from "./k8s.ts";
import { load } from "./load.ts";
import { log } from "./log.ts";
import { renderFigures, writeFigures, type Figures } from "./results.ts";
import { memoryMiB } from "./stats.ts";
import { nonLoopbackAddress } from "./host-address.ts";

const E2E = join(dirname(fileURLToPath(import.meta.url)), "..");
const ROOT = join(E2E, "..");
const STACK = "minikube";
const ARTIFACTS = join(E2E, "artifacts");

// render/index.ts is CommonJS TypeScript; loaded through require so its __dirname is its own.
const { renderStack } = createRequire(import.meta.url)(join(ROOT, "render", "index.ts")) as {
  renderStack: typeof RenderStack;
};

const runId = newRunId();
const figures: Figures = { startedAt: new Date(), baseImages: [], builds: [], readiness: [], restarts: [], memoryIdle: {}, memoryAfter: {}, memoryLimits: {} };
const started = Date.now();

let engine: Engine | undefined;
let docker: Docker;
let cluster: Cluster;
let workDir: string;
let origin: string;
/** Where the NodePort is published: a non-loopback address, chosen once the engine runs. */
let hostAddress: string;
let backendPod: string;
let postgresPods: string[];
let stopTrapping = () => {};

const api = () => new ApiClient(origin);
const account = (who: string) => ({ name: `E2E ${who}`, email: `e2e-${who}-${runId}@example.test`, password: `pw-${runId}-${who}-long` });

/** A signed-up user's client (the session cookie set by sign-up itself: autoSignIn). */
async function signUp(who: string): Promise<ApiClient> {
  const client = api();
  const a = account(who);
  await client.expect(200, "POST", "/api/auth/sign-up/email", a);
  const session = await client.expect(200, "GET", "/api/auth/get-session");
  assert.equal(session?.user?.email, a.email, "the session after sign-up is the new user's");
  return client;
}

async function memoryOfWorkloads(): Promise<Record<string, number>> {
  const containers = cluster.workloadContainers();
  const m = await memoryMiB(docker, containers.map((c) => c.docker));
  const out: Record<string, number> = {};
  for (const c of containers) {
    out[`${c.pod}/${c.container}`] = m[c.docker].usedMiB;
    figures.memoryLimits[`${c.pod}/${c.container}`] = m[c.docker].limitMiB;
  }
  return out;
}

/** What the engine actually applied to each running container, against its rendered spec. */
async function checkContainersMatchTheirSpecs(): Promise<void> {
  for (const { pod, container, docker: name } of cluster.workloadContainers()) {
    const spec = cluster.pods.find((p) => p.name === pod)!.spec;
    const c = spec.containers.find((x: any) => x.name === container);
    const sc = { ...spec.securityContext, ...c.securityContext };
    const { Config, HostConfig, Mounts } = await docker.inspect("container", name);
    const where = `${pod}/${container}`;
    if (sc.runAsUser !== undefined) assert.equal(Config.User, `${sc.runAsUser}${sc.runAsGroup !== undefined ? `:${sc.runAsGroup}` : ""}`, `${where} user`);
    assert.equal(HostConfig.ReadonlyRootfs, sc.readOnlyRootFilesystem === true, `${where} read-only root filesystem`);
    if (sc.capabilities?.drop?.includes("ALL")) assert.ok(HostConfig.CapDrop?.includes("ALL"), `${where} drops all capabilities`);
    if (sc.allowPrivilegeEscalation === false) assert.ok(HostConfig.SecurityOpt?.includes("no-new-privileges"), `${where} no new privileges`);
    if (c.resources?.limits?.cpu) assert.equal(HostConfig.NanoCpus, Math.round(cpuCores(c.resources.limits.cpu) * 1e9), `${where} CPU limit`);
    if (c.resources?.limits?.memory) assert.equal(HostConfig.Memory, bytes(c.resources.limits.memory), `${where} memory limit`);
    for (const m of c.volumeMounts ?? []) assert.ok(Mounts.some((x: any) => x.Destination === m.mountPath), `${where} mounts ${m.mountPath}`);
  }
}

describe(`the ${STACK} stack on a real Docker Engine`, { timeout: 60 * 60_000 }, () => {
  let apiUser: ApiClient;
  const apiTaskTitles = ["Renew the passport", "buy oat milk"];

  before(async () => {
    mkdirSync(join(E2E, ".cache"), { recursive: true });
    engine = await ensureEngine(join(E2E, ".cache"));
    docker = new Docker(engine);
    stopTrapping = cleanUpOnSignals(engine.cli, runId, () => engine?.stopSync());
    figures.engine = (await docker.run(["version", "--format", "{{.Server.Version}}"])).stdout.trim();
    figures.machine = `${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
    await removeStaleRuns(docker);
    workDir = mkdtempSync(join(tmpdir(), `todo-e2e-${runId}-`));
    log(`run ${runId}`);
  });

  after(async () => {
    try {
      cluster?.stopWatching();
      if (docker) {
        const logs = join(ARTIFACTS, "logs");
        rmSync(logs, { recursive: true, force: true });
        await saveLogs(docker, runId, logs);
        log(`container logs kept in ${logs}; removing everything labelled with this run`);
        await removeRun(docker, runId);
      }
      if (workDir) rmSync(workDir, { recursive: true, force: true });
      await engine?.stop();
    } finally {
      stopTrapping();
      figures.outcome ??= "NOT all steps passed (see the test report)";
      figures.totalSeconds = (Date.now() - started) / 1000;
      // A run that built nothing has no figures worth keeping: print, but leave results.md be.
      const text = figures.builds.length > 0 ? writeFigures(join(E2E, "results.md"), figures) : renderFigures(figures);
      process.stdout.write(`\n${text}\n`);
    }
  });

  let images: ImageBuild[] = [];
  let objects: any[] = [];

  it("renders the stack with its secrets, and finds an image build for every app image a pod runs", async () => {
    const rendered = await renderStack({ stack: STACK, secrets: "reveal" });
    images = rendered.images;
    objects = rendered.objects;
    const podImages = objects.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet").flatMap((o) => [...(o.spec.template.spec.initContainers ?? []), ...o.spec.template.spec.containers].map((c: any) => c.image));
    assert.ok(images.length > 0, "the render declares image builds");
    for (const b of images) assert.ok(podImages.includes(b.imageName), `a pod runs the built image ${b.imageName}`);
  });

  it("has every base image: present, pulled, or a local stand-in under the same tag", async () => {
    const builtNames = new Set(images.map((b) => b.imageName));
    const podImages = objects.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet").flatMap((o) => o.spec.template.spec.containers.map((c: any) => c.image as string));
    const refs = [...new Set([...images.flatMap((b) => baseImagesOf(b.dockerfile, b.args)), ...podImages.filter((i) => !builtNames.has(i))])];
    for (const ref of refs) {
      const b = await ensureBaseImage(docker, ref);
      log(`base image ${ref}: ${b.source} (${b.seconds.toFixed(1)} s)`);
      figures.baseImages.push(b);
    }
  });

  it("builds each app image as declared: cold, then warm after a one-line change", async () => {
    for (const b of images) figures.builds.push(await buildImage(docker, b, runId));
    for (const b of figures.builds) assert.ok(b.appLayerBytes > 0, `${b.imageName} adds layers to its base`);
  });

  it("runs every Deployment and StatefulSet until each container passes its declared probes", async () => {
    const infraImage = figures.baseImages.map((b) => b.ref).find((r) => r.startsWith("node:"));
    assert.ok(infraImage, "a node base image for the harness's own containers");
    hostAddress = nonLoopbackAddress();
    cluster = new Cluster({ docker, runId, objects, infraImage, runnerDir: join(E2E, "runner"), workDir, hostAddress });
    const nodePorts = cluster.services.flatMap((s) => s.ports.filter((p) => p.nodePort).map((p) => p.nodePort!));
    assert.equal(nodePorts.length, 1, "the stack publishes one NodePort: the frontend's");
    origin = `http://${hostAddress}:${nodePorts[0]}`;
    const backendImage = images.find((b) => b.app === "backend")!.imageName;
    backendPod = cluster.pods.find((p) => p.spec.containers.some((c: any) => c.image === backendImage))!.name;
    postgresPods = cluster.pods.filter((p) => p.workload.kind === "StatefulSet").map((p) => p.name);
    await cluster.start();
    await cluster.waitReady();
    figures.readiness = cluster.readiness();
    for (const r of figures.readiness) assert.ok(r.startToReadySeconds >= 0, `${r.pod}/${r.container} became ready`);
    await checkContainersMatchTheirSpecs();
    // A moment for start-up work to settle before the idle figure.
    await new Promise((r) => setTimeout(r, 5000));
    figures.memoryIdle = await memoryOfWorkloads();
  });

  it("reaches every Service on its port under each of its DNS names, from another workload's pod", async () => {
    const unreachable: string[] = [];
    for (const svc of cluster.services) {
      const from = cluster.pods.find((p) => !svc.pods.includes(p.name))!.name;
      for (const name of svc.dnsNames) {
        for (const { port } of svc.ports) {
          const why = await cluster.reach(from, name, port);
          if (why) unreachable.push(`${name}:${port} from ${from}: ${why}`);
        }
      }
    }
    assert.deepEqual(unreachable, []);
  });

  it("stops with the container's logs when a pod's startup probe fails", async () => {
    const infraImage = figures.baseImages.map((b) => b.ref).find((r) => r.startsWith("node:"))!;
    const marker = `probe-check ${runId}: listening nowhere`;
    const failing = new Cluster({
      docker, runId, name: "probe-check", infraImage, runnerDir: join(E2E, "runner"), workDir: mkdtempSync(join(workDir, "probe-check-")), hostAddress,
      objects: [{
        apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "probe-check", namespace: "e2e" },
        spec: { replicas: 1, template: { metadata: { labels: { app: "probe-check" } }, spec: {
          securityContext: { runAsUser: 1000, runAsNonRoot: true },
          containers: [{
            name: "web", image: infraImage, command: ["sh", "-c", `echo '${marker}'; exec sleep 300`], ports: [{ name: "http", containerPort: 8080 }],
            startupProbe: { httpGet: { path: "/health", port: "http" }, periodSeconds: 1, failureThreshold: 2 },
          }],
        } } },
      }],
    });
    try {
      await assert.rejects(failing.start().then(() => failing.waitReady()), (e: Error) => {
        assert.match(e.message, /pod probe-check-0 container web: startup probe failed 2 times \(ECONNREFUSED on [\d.]+:8080\)/);
        assert.ok(e.message.includes(marker), `the error carries the container's log: ${e.message}`);
        return true;
      });
    } finally {
      failing.stopWatching();
    }
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
    for (const pod of postgresPods) {
      await cluster.deletePod(pod);
      await cluster.recreatePod(pod);
      figures.restarts.push(...cluster.readiness().filter((r) => r.pod === pod));
    }
    // The backend's pool meets a new server; readiness says when it is back.
    await cluster.waitReady([backendPod]);
    const after = (await apiUser.expect(200, "GET", "/api/tasks?status=all")).tasks.map((t: any) => t.id).sort();
    assert.deepEqual(after, before);
  });

  it("completes the requests in flight when the backend pod is deleted (preStop, then its stop signal)", async () => {
    let stopping = false;
    let signalled = false;
    const inFlight = new Set<Promise<number>>();
    let snapshot: Promise<number>[] = [];
    const afterSignal: number[] = [];
    const worker = async () => {
      while (!stopping) {
        const p = apiUser.request("GET", "/api/tasks").then((r) => r.status, () => 0);
        const wasSignalled = signalled;
        inFlight.add(p);
        const status = await p;
        inFlight.delete(p);
        if (wasSignalled) afterSignal.push(status);
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    const codes = await cluster.deletePod(backendPod, () => {
      signalled = true;
      snapshot = [...inFlight];
    });
    stopping = true;
    await Promise.all(workers);
    const statuses = await Promise.all(snapshot);
    figures.sigterm = {
      inFlight: statuses.length,
      completed: statuses.filter((s) => s >= 200 && s < 300).length,
      afterSignalOk: afterSignal.filter((s) => s >= 200 && s < 300).length,
      afterSignalFailed: afterSignal.filter((s) => !(s >= 200 && s < 300)).length,
      exitCode: Object.values(codes)[0],
    };
    assert.ok(statuses.length > 0, "requests were in flight when the signal was sent");
    assert.deepEqual(statuses.filter((s) => !(s >= 200 && s < 300)), [], "every request in flight at the signal completed with 2xx");
    assert.deepEqual(Object.values(codes), [0], "the backend exited 0 after draining");
  });

  it("keeps users signed in across a backend restart with the same secret", async () => {
    await cluster.recreatePod(backendPod);
    figures.restarts.push(...cluster.readiness().filter((r) => r.pod === backendPod));
    const session = await apiUser.expect(200, "GET", "/api/auth/get-session");
    assert.equal(session?.user?.email, account("api").email);
    assert.equal((await apiUser.expect(200, "GET", "/api/tasks?status=all")).total, 2);
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
    figures.memoryAfter = await memoryOfWorkloads();
  });

  it("stayed healthy throughout: no liveness failure or unexpected exit", async () => {
    assert.deepEqual(cluster.incidents, []);
    figures.outcome = "all steps passed";
  });
});

