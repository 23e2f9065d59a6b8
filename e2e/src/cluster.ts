// Runs the rendered Deployments and StatefulSets on one Docker network, the way a kubelet and
// kube-proxy would: a pod is a small "pause" container that owns the network namespace (and
// the Service names), its init containers run to completion in it, then its containers start in
// it with the resolved env, securityContext, volumes and limits, and their probes run as declared.
import { chmodSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Docker, RUN_LABEL } from "./docker.ts";
import {
  commandArgs, objectStore, podsOf, probesOf, resolveEnv, resourceArgs, securityArgs, servicesOf,
  statefulPodNames, volumesOf, type K8sObject, type ObjectStore, type Pod, type Probe, type ServicePlan,
} from "./k8s.ts";
import { log } from "./log.ts";

export interface ClusterOptions {
  readonly docker: Docker;
  readonly runId: string;
  readonly objects: K8sObject[];
  /** Image for the harness's own containers (pause, forwarders, volume ownership); has node. */
  readonly infraImage: string;
  /** e2e/runner, mounted read-only into the harness's containers. */
  readonly runnerDir: string;
  /** A folder of this run's (endpoint files live there). */
  readonly workDir: string;
  /** Host address NodePorts are published on. */
  readonly hostAddress: string;
  /** Tells apart several clusters of one run in container and network names. */
  readonly name?: string;
}

interface ContainerState {
  readonly name: string;
  readonly docker: string;
  readonly spec: any;
  readonly probes: Probe[];
  readonly stopSignal: string;
  startedAt?: number;
  readyAt?: number;
  ready: boolean;
  restarts: number;
}

interface PodState {
  readonly pod: Pod;
  readonly pause: string;
  ip: string;
  containers: ContainerState[];
  initSeconds: number;
  terminating: boolean;
  readonly stop: AbortController;
  /** Settles when every container is ready, or rejects when one cannot become ready. */
  ready: Promise<void>;
}

export interface ReadyFigure {
  pod: string;
  container: string;
  initSeconds: number;
  startToReadySeconds: number;
  restarts: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });

export class Cluster {
  readonly network: string;
  readonly pods: Pod[];
  readonly services: ServicePlan[];
  /** Things a kubelet would have acted on (liveness failures, unexpected exits); the run fails on any. */
  readonly incidents: string[] = [];
  private readonly store: ObjectStore;
  private readonly state = new Map<string, PodState>();
  private readonly endpointsDir: string;

  constructor(private readonly o: ClusterOptions) {
    this.network = this.name();
    this.pods = podsOf(o.objects);
    this.services = servicesOf(o.objects, this.pods);
    this.store = objectStore(o.objects);
    this.endpointsDir = join(o.workDir, "endpoints");
  }

  private get docker() {
    return this.o.docker;
  }

  private name(...parts: string[]) {
    return ["todo-e2e", this.o.runId, ...(this.o.name ? [this.o.name] : []), ...parts].join("-");
  }

  private labels(extra: Record<string, string> = {}): string[] {
    return Object.entries({ [RUN_LABEL]: this.o.runId, ...extra }).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
  }

  /** Creates the network and the forwarders, starts every pod at once and waits until all are ready. */
  async start(): Promise<void> {
    await this.docker.run(["network", "create", ...this.labels(), this.network]);
    mkdirSync(this.endpointsDir, { recursive: true });
    // Readable by the forwarders' unprivileged user.
    chmodSync(this.o.workDir, 0o755);
    chmodSync(this.endpointsDir, 0o755);
    for (const svc of this.services.filter((s) => s.mode === "forwarder")) await this.startForwarder(svc);
    await Promise.all(this.pods.map((p) => this.startPod(p)));
  }

  private async startForwarder(svc: ServicePlan): Promise<void> {
    this.writeEndpoints(svc);
    const publish = svc.ports.flatMap((p) => (p.nodePort ? ["-p", `${this.o.hostAddress}:${p.nodePort}:${p.port}`] : []));
    await this.docker.run([
      "run", "-d", "--name", this.name("svc", svc.name), ...this.labels({ "todo-chatbot-e2e.role": "service-forwarder" }),
      "--network", this.network, ...svc.dnsNames.flatMap((n) => ["--network-alias", n]),
      "--user", "65535:65535", "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
      "--sysctl", "net.ipv4.ip_unprivileged_port_start=0", "--memory", "128m",
      "-v", `${this.o.runnerDir}:/e2e-runner:ro`, "-v", `${this.endpointsDir}:/endpoints:ro`, ...publish,
      "--entrypoint", "node", this.o.infraImage, "/e2e-runner/forwarder.mjs", `/endpoints/${svc.name}.json`,
      ...svc.ports.map((p) => `${p.port}:${p.targetPort}`),
    ]);
  }

  /** The endpoints controller: a forwarded Service sends only to its ready, non-terminating pods. */
  private writeEndpoints(svc: ServicePlan): void {
    const ready = svc.pods.map((p) => this.state.get(p)).filter((s): s is PodState => !!s && !s.terminating && s.containers.length > 0 && s.containers.every((c) => c.ready)).map((s) => s.ip);
    const file = join(this.endpointsDir, `${svc.name}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify({ ready }), { mode: 0o644 });
    renameSync(`${file}.tmp`, file);
  }

  private endpointsChanged(pod: string): void {
    for (const svc of this.services) if (svc.mode === "forwarder" && svc.pods.includes(pod)) this.writeEndpoints(svc);
  }

  /** Creates one pod (volumes, pause, init containers, containers) and starts its probes. */
  async startPod(pod: Pod): Promise<void> {
    const pause = this.name(pod.name);
    const volumes = await this.createVolumes(pod);
    const aliases = [
      ...this.services.filter((s) => s.mode === "alias" && s.pods.includes(pod.name)).flatMap((s) => s.dnsNames),
      ...statefulPodNames(pod, this.o.objects),
    ];
    await this.docker.run([
      "run", "-d", "--name", pause, ...this.labels({ "todo-chatbot-e2e.pod": pod.name, "todo-chatbot-e2e.role": "pause" }),
      "--hostname", pod.name, "--network", this.network, ...aliases.flatMap((a) => ["--network-alias", a]),
      "--user", "65535:65535", "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--memory", "256m",
      "-v", `${this.o.runnerDir}:/e2e-runner:ro`, "--entrypoint", "sleep", this.o.infraImage, "infinity",
    ]);
    const ip = (await this.docker.run(["inspect", "-f", `{{(index .NetworkSettings.Networks "${this.network}").IPAddress}}`, pause])).stdout.trim();
    const state: PodState = { pod, pause, ip, containers: [], initSeconds: 0, terminating: false, stop: new AbortController(), ready: Promise.resolve() };
    this.state.set(pod.name, state);

    const initStarted = Date.now();
    for (const c of pod.spec.initContainers ?? []) await this.runInit(state, c, volumes);
    state.initSeconds = (Date.now() - initStarted) / 1000;

    for (const c of pod.spec.containers) {
      const docker = this.name(pod.name, c.name);
      const run = await this.runSpec(state, c, volumes, docker);
      await this.docker.run(["run", "-d", ...run.args], { env: run.env });
      state.containers.push({ name: c.name, docker, spec: c, probes: probesOf(pod, c), stopSignal: run.image.StopSignal ?? "SIGTERM", startedAt: Date.now(), ready: false, restarts: 0 });
    }
    state.ready = Promise.all(state.containers.map((c) => this.watch(state, c))).then(() => undefined);
    // Observed by waitReady; keep an early failure from being reported as unhandled meanwhile.
    state.ready.catch(() => undefined);
  }

  private async imageConfig(ref: string, pod: Pod, c: any): Promise<{ User?: string; StopSignal?: string }> {
    const image = await this.docker.inspect("image", ref);
    if (!image) {
      const policy = c.imagePullPolicy ?? "IfNotPresent";
      throw new Error(`pod ${pod.name} container ${c.name}: image ${ref} is not in the engine (imagePullPolicy ${policy}; this runner never pulls for a pod)`);
    }
    return image.Config ?? {};
  }

  /** `docker run` arguments for one container of a pod, and the environment that carries its values. */
  private async runSpec(state: PodState, c: any, volumes: Map<string, string>, dockerName: string): Promise<{ args: string[]; env: Record<string, string>; image: { User?: string; StopSignal?: string } }> {
    const { pod } = state;
    const image = await this.imageConfig(c.image, pod, c);
    const env = resolveEnv(pod, c, this.store);
    const { entrypoint, args } = commandArgs(c, env);
    const mounts = (c.volumeMounts ?? []).flatMap((m: any) => {
      const volume = volumes.get(m.name);
      if (!volume) throw new Error(`pod ${pod.name} container ${c.name}: volumeMount ${m.name} names no volume of the pod`);
      if (m.subPath) throw new Error(`pod ${pod.name} container ${c.name}: volumeMount subPath is not supported by this runner`);
      // volume-nocopy: a Kubernetes volume starts empty, it is not seeded from the image.
      return ["--mount", `type=volume,src=${volume},dst=${m.mountPath}${m.readOnly ? ",readonly" : ""},volume-nocopy`];
    });
    const flags = [
      "--name", dockerName, ...this.labels({ "todo-chatbot-e2e.pod": pod.name, "todo-chatbot-e2e.container": c.name }),
      "--network", `container:${state.pause}`,
      ...securityArgs(pod, c, image), ...resourceArgs(c.resources), ...mounts,
      ...(c.workingDir ? ["-w", c.workingDir] : []),
      ...(entrypoint !== undefined ? ["--entrypoint", entrypoint] : []),
      ...(c.stdin ? ["-i"] : []), ...(c.tty ? ["-t"] : []),
      // Values travel through the CLI's own environment, so secrets never appear on a command line.
      ...Object.keys(env).flatMap((k) => ["-e", k]),
      ...(pod.spec.terminationGracePeriodSeconds !== undefined ? ["--stop-timeout", String(pod.spec.terminationGracePeriodSeconds)] : []),
    ];
    return { args: [...flags, c.image, ...args], env, image };
  }

  /** emptyDirs as tmpfs volumes shared by the pod's containers; PVCs as named volumes kept across pod restarts. */
  private async createVolumes(pod: Pod): Promise<Map<string, string>> {
    const fsGroup: number | undefined = pod.spec.securityContext?.fsGroup;
    const volumes = new Map<string, string>();
    for (const v of volumesOf(pod)) {
      if (v.kind === "emptyDir") {
        const name = this.name(pod.name, v.name);
        await this.docker.run(["volume", "rm", "-f", name], { reject: false });
        // An emptyDir is world-writable; with fsGroup it also belongs to that group, setgid.
        const opts = [`mode=${fsGroup !== undefined ? "2777" : "0777"}`, ...(fsGroup !== undefined ? [`gid=${fsGroup}`] : []), ...(v.sizeBytes ? [`size=${v.sizeBytes}`] : [])];
        await this.docker.run(["volume", "create", ...this.labels({ "todo-chatbot-e2e.pod": pod.name }), "--driver", "local", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "--opt", `o=${opts.join(",")}`, name]);
        volumes.set(v.name, name);
      } else {
        const name = this.name("pvc", v.claim!);
        if (!(await this.docker.inspect("volume", name))) {
          await this.docker.run(["volume", "create", ...this.labels({ "todo-chatbot-e2e.claim": v.claim! }), name]);
        }
        if (fsGroup !== undefined) await this.applyFsGroup(name, fsGroup, pod.spec.securityContext?.fsGroupChangePolicy ?? "Always");
        volumes.set(v.name, name);
      }
    }
    return volumes;
  }

  /** The kubelet's fsGroup ownership change: group-owned, group-writable, setgid directories. */
  private async applyFsGroup(volume: string, gid: number, policy: string): Promise<void> {
    const script = `${policy === "OnRootMismatch" ? `[ "$(stat -c %g /v)" = "${gid}" ] && exit 0; ` : ""}chgrp -R ${gid} /v && chmod -R g+rwX /v && find /v -type d -exec chmod g+s {} +`;
    await this.docker.run(["run", "--rm", ...this.labels({ "todo-chatbot-e2e.role": "fsgroup" }), "--network", "none", "--user", "0:0",
      "--mount", `type=volume,src=${volume},dst=/v,volume-nocopy`, "--entrypoint", "sh", this.o.infraImage, "-c", script]);
  }

  /** An init container to completion; on failure it is retried with the kubelet's back-off. */
  private async runInit(state: PodState, c: any, volumes: Map<string, string>): Promise<void> {
    const run = await this.runSpec(state, c, volumes, this.name(state.pod.name, c.name));
    for (let attempt = 1, backoff = 10; ; attempt++, backoff *= 2) {
      const started = Date.now();
      const r = await this.docker.run(["run", "--rm", ...run.args], { env: run.env, reject: false });
      if (r.exitCode === 0) {
        log(`pod ${state.pod.name}: init container ${c.name} completed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return;
      }
      const output = `${r.stdout}\n${r.stderr}`.trim().split("\n").slice(-40).join("\n");
      log(`pod ${state.pod.name}: init container ${c.name} exited ${r.exitCode} (attempt ${attempt}); its output:\n${output}`);
      if (attempt >= 4) throw new Error(`pod ${state.pod.name}: init container ${c.name} failed ${attempt} times (last exit ${r.exitCode}):\n${output}`);
      log(`pod ${state.pod.name}: retrying ${c.name} in ${backoff} s (kubelet back-off)`);
      await sleep(backoff * 1000);
    }
  }

  /** Runs one probe: HTTP and TCP from the pod's network namespace, exec inside the container. */
  private async probe(state: PodState, c: ContainerState, p: Probe): Promise<{ ok: boolean; detail: string }> {
    const budget = p.timeoutSeconds * 1000;
    if ("exec" in p.action) {
      // docker exec adds its own start-up to the command's; the slack keeps that out of the probe's timeout.
      const r = await this.docker.run(["exec", c.docker, ...p.action.exec], { reject: false, timeoutMs: budget + 3000 });
      return { ok: r.exitCode === 0, detail: (r.stdout + r.stderr).trim() || `exit ${r.exitCode}` };
    }
    const host = ("http" in p.action ? p.action.http.host : p.action.tcp.host) ?? state.ip;
    const spec = JSON.stringify({ ...p.action, host, timeoutMs: budget });
    const r = await this.docker.run(["exec", state.pause, "node", "/e2e-runner/probe.mjs", spec], { reject: false, timeoutMs: budget + 10000 });
    return { ok: r.exitCode === 0, detail: (r.stdout + r.stderr).trim() || `exit ${r.exitCode}` };
  }

  private async running(c: ContainerState): Promise<{ running: boolean; exitCode: number }> {
    const r = await this.docker.run(["inspect", "-f", "{{.State.Running}} {{.State.ExitCode}}", c.docker], { reject: false });
    const [running, code] = r.stdout.trim().split(" ");
    return { running: running === "true", exitCode: Number(code) };
  }

  /** A TCP connection to host:port from inside a pod's network namespace; the failure reason, or undefined. */
  async reach(fromPod: string, host: string, port: number): Promise<string | undefined> {
    const state = this.state.get(fromPod);
    if (!state) throw new Error(`no pod ${fromPod}`);
    const spec = JSON.stringify({ tcp: { port }, host, timeoutMs: 3000 });
    const r = await this.docker.run(["exec", state.pause, "node", "/e2e-runner/probe.mjs", spec], { reject: false, timeoutMs: 15000 });
    return r.exitCode === 0 ? undefined : (r.stdout + r.stderr).trim() || `exit ${r.exitCode}`;
  }

  async logsOf(container: string, lines = 80): Promise<string> {
    const r = await this.docker.run(["logs", "--tail", String(lines), container], { reject: false });
    return `${r.stdout}${r.stderr}`.trim();
  }

  /**
   * The kubelet's probe workers for one container: startup first (failing it fails the run, with the
   * logs), then readiness (which drives the Service endpoints) and liveness (a failure is an
   * incident, and the container is restarted as the kubelet would). Resolves when first ready.
   */
  private watch(state: PodState, c: ContainerState): Promise<void> {
    const { signal } = state.stop;
    const where = `pod ${state.pod.name} container ${c.name}`;
    const startup = c.probes.find((p) => p.kind === "startup");
    const readiness = c.probes.find((p) => p.kind === "readiness");
    const liveness = c.probes.find((p) => p.kind === "liveness");
    const sinceStart = () => Date.now() - (c.startedAt ?? Date.now());

    const failWithLogs = async (why: string) => {
      const logs = await this.logsOf(c.docker);
      log(`${where}: ${why}; its last log lines:\n${logs}`);
      return new Error(`${where}: ${why}\n--- container log (tail) ---\n${logs}`);
    };

    const exitedDuringStartup = async (): Promise<Error | undefined> => {
      const s = await this.running(c);
      if (s.running || signal.aborted) return undefined;
      return failWithLogs(`exited with code ${s.exitCode} before becoming ready`);
    };

    const runStartup = async () => {
      if (!startup) return;
      await sleep(startup.initialDelaySeconds * 1000 - sinceStart(), signal);
      for (let failures = 0; !signal.aborted; ) {
        const exited = await exitedDuringStartup();
        if (exited) throw exited;
        const r = await this.probe(state, c, startup);
        if (r.ok) return;
        if (++failures >= startup.failureThreshold) throw await failWithLogs(`startup probe failed ${failures} times (${r.detail})`);
        await sleep(startup.periodSeconds * 1000, signal);
      }
    };

    const runReadiness = (firstReady: () => void, neverReady: (e: Error) => void) => async () => {
      if (!readiness) {
        c.ready = true;
        c.readyAt = Date.now();
        this.endpointsChanged(state.pod.name);
        return firstReady();
      }
      await sleep(readiness.initialDelaySeconds * 1000 - sinceStart(), signal);
      // Without a startup probe nothing bounds readiness in Kubernetes; here it is five minutes.
      const deadline = Date.now() + 300_000;
      let successes = 0;
      let failures = 0;
      while (!signal.aborted) {
        if (!c.ready) {
          const exited = await exitedDuringStartup();
          if (exited) return neverReady(exited);
        } else if (!state.terminating && !(await this.running(c)).running && !signal.aborted) {
          // restartPolicy Always: the kubelet starts it again; here that is also an incident.
          const logs = await this.logsOf(c.docker);
          this.incidents.push(`${where}: exited unexpectedly after becoming ready`);
          log(`${where}: exited unexpectedly; restarting it. Last log lines:\n${logs}`);
          c.restarts++;
          await this.docker.run(["start", c.docker], { reject: false });
          c.startedAt = Date.now();
        }
        const r = await this.probe(state, c, readiness);
        if (signal.aborted) return;
        if (r.ok) {
          failures = 0;
          if (!c.ready && ++successes >= readiness.successThreshold) {
            c.ready = true;
            c.readyAt ??= Date.now();
            log(`${where} ready ${(sinceStart() / 1000).toFixed(1)} s after start`);
            this.endpointsChanged(state.pod.name);
            firstReady();
          }
        } else {
          successes = 0;
          if (c.ready && ++failures >= readiness.failureThreshold) {
            c.ready = false;
            log(`${where} not ready (${r.detail})`);
            this.endpointsChanged(state.pod.name);
          }
          if (c.readyAt === undefined && Date.now() > deadline) return neverReady(await failWithLogs(`not ready after 300 s (${r.detail})`));
        }
        await sleep(readiness.periodSeconds * 1000, signal);
      }
    };

    const runLiveness = async () => {
      if (!liveness) return;
      await sleep(liveness.initialDelaySeconds * 1000 - sinceStart(), signal);
      for (let failures = 0; !signal.aborted; ) {
        await sleep(liveness.periodSeconds * 1000, signal);
        if (signal.aborted || state.terminating) return;
        const r = await this.probe(state, c, liveness);
        if (signal.aborted || state.terminating) return;
        if (r.ok) {
          failures = 0;
          continue;
        }
        if (++failures < liveness.failureThreshold) continue;
        const logs = await this.logsOf(c.docker);
        this.incidents.push(`${where}: liveness probe failed ${failures} times (${r.detail}); the kubelet would restart it`);
        log(`${where}: liveness failed (${r.detail}); restarting it as the kubelet would. Last log lines:\n${logs}`);
        c.restarts++;
        await this.docker.run(["restart", "-t", String(state.pod.spec.terminationGracePeriodSeconds ?? 30), c.docker], { reject: false });
        c.startedAt = Date.now();
        failures = 0;
      }
    };

    return new Promise<void>((resolve, reject) => {
      runStartup()
        .then(() => {
          if (signal.aborted) return resolve();
          void runReadiness(resolve, reject)().catch(reject);
          void runLiveness().catch((e) => this.incidents.push(`${where}: liveness worker failed: ${e.message}`));
        })
        .catch(reject);
    });
  }

  async waitReady(podNames = this.pods.map((p) => p.name)): Promise<void> {
    await Promise.all(podNames.map((n) => this.state.get(n)?.ready ?? Promise.reject(new Error(`pod ${n} was never started`))));
  }

  /** Start-to-ready figures of every container of the current pods. */
  readiness(): ReadyFigure[] {
    return [...this.state.values()].flatMap((s) =>
      s.containers.map((c) => ({
        pod: s.pod.name,
        container: c.name,
        initSeconds: s.initSeconds,
        startToReadySeconds: c.readyAt && c.startedAt ? (c.readyAt - c.startedAt) / 1000 : NaN,
        restarts: c.restarts,
      })),
    );
  }

  /** Docker container name of a pod's container. */
  container(pod: string, container: string): string {
    const c = this.state.get(pod)?.containers.find((x) => x.name === container);
    if (!c) throw new Error(`no container ${container} in pod ${pod}`);
    return c.docker;
  }

  /** All running workload containers (not the harness's pause and forwarder containers). */
  workloadContainers(): { pod: string; container: string; docker: string }[] {
    return [...this.state.values()].flatMap((s) => s.containers.map((c) => ({ pod: s.pod.name, container: c.name, docker: c.docker })));
  }

  /**
   * Deletes a pod as the kubelet does: out of the Service endpoints, preStop hooks, then the
   * stop signal, and SIGKILL once terminationGracePeriodSeconds has passed. `onSignal` runs right
   * after the stop signal was delivered. Returns each container's exit code.
   */
  async deletePod(podName: string, onSignal?: () => void): Promise<Record<string, number>> {
    const state = this.state.get(podName);
    if (!state) throw new Error(`no pod ${podName}`);
    state.terminating = true;
    this.endpointsChanged(podName);
    const grace = (state.pod.spec.terminationGracePeriodSeconds ?? 30) * 1000;
    const deadline = Date.now() + grace;
    const codes: Record<string, number> = {};
    await Promise.all(
      state.containers.map(async (c) => {
        const preStop = c.spec.lifecycle?.preStop;
        if (preStop?.exec) await this.docker.run(["exec", c.docker, ...preStop.exec.command], { reject: false, timeoutMs: grace });
        else if (preStop?.sleep) await sleep(preStop.sleep.seconds * 1000);
        state.stop.abort();
        await this.docker.run(["kill", "-s", c.stopSignal, c.docker], { reject: false });
        onSignal?.();
        const left = Math.max(0, deadline - Date.now());
        const waited = await this.docker.run(["wait", c.docker], { reject: false, timeoutMs: left });
        if (waited.exitCode !== 0) {
          this.incidents.push(`pod ${podName} container ${c.name} did not stop within terminationGracePeriodSeconds; killed`);
          await this.docker.run(["kill", "-s", "KILL", c.docker], { reject: false });
        }
        codes[c.name] = Number((await this.docker.run(["inspect", "-f", "{{.State.ExitCode}}", c.docker])).stdout.trim());
      }),
    );
    state.stop.abort();
    await this.removePodContainers(state);
    this.state.delete(podName);
    return codes;
  }

  /** The controller's answer to a deleted pod: the same pod spec again (same PVCs, fresh emptyDirs). */
  async recreatePod(podName: string): Promise<void> {
    const pod = this.pods.find((p) => p.name === podName);
    if (!pod) throw new Error(`no pod ${podName}`);
    await this.startPod(pod);
    await this.waitReady([podName]);
  }

  private async removePodContainers(state: PodState): Promise<void> {
    const names = [...state.containers.map((c) => c.docker), state.pause];
    await this.docker.run(["rm", "-f", "-v", ...names], { reject: false });
  }

  /** Stops every probe worker (before the run's resources are removed by label). */
  stopWatching(): void {
    for (const s of this.state.values()) s.stop.abort();
  }
}
