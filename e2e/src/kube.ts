// The local Kubernetes cluster (scripts/local-cluster.sh), through its own kubectl and
// kubeconfig: bring it up, apply objects, wait as `kubectl rollout status` does, and read pods.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { log } from "./log.ts";

export interface ClusterEnv {
  KUBECONFIG: string;
  TODO_CLUSTER_CONTEXT: string;
  TODO_CLUSTER_HOME: string;
  DOCKER_HOST: string;
  PATH: string;
}

export interface ReadyFigure {
  pod: string;
  container: string;
  /** Seconds the init containers took, first start to last finish. */
  initSeconds: number;
  /** The container's start to the pod's Ready condition (the API's timestamps have 1 s resolution). */
  startToReadySeconds: number;
  restarts: number;
}

/** `scripts/local-cluster.sh env`, parsed into the variables it exports. */
export async function clusterEnv(repo: string): Promise<ClusterEnv> {
  const r = await execa(join(repo, "scripts", "local-cluster.sh"), ["env"], { env: { PATH: process.env.PATH } });
  const env: Record<string, string> = {};
  for (const line of r.stdout.split("\n")) {
    const m = /^export (\w+)="(.*)"$/.exec(line);
    if (m) env[m[1]] = m[2].replace("$PATH", process.env.PATH ?? "");
  }
  for (const k of ["KUBECONFIG", "TODO_CLUSTER_CONTEXT", "TODO_CLUSTER_HOME", "DOCKER_HOST", "PATH"]) {
    if (!env[k]) throw new Error(`scripts/local-cluster.sh env did not export ${k}:\n${r.stdout}`);
  }
  return env as unknown as ClusterEnv;
}

export class Kube {
  constructor(readonly env: ClusterEnv) {}

  /** Runs kubectl against the local cluster's context; throws with its stderr unless `reject: false`. */
  async run(args: string[], opts: { input?: string; reject?: boolean; timeoutMs?: number } = {}) {
    const r = await execa("kubectl", ["--context", this.env.TODO_CLUSTER_CONTEXT, ...args], {
      env: { ...process.env, ...this.env },
      input: opts.input,
      reject: false,
      timeout: opts.timeoutMs ?? 120_000,
    });
    const result = { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 };
    if (opts.reject !== false && result.exitCode !== 0) {
      throw new Error(`kubectl ${args.join(" ")} failed (exit ${result.exitCode}${r.timedOut ? ", timed out" : ""}):\n${result.stderr.trim() || result.stdout.trim()}`);
    }
    return result;
  }

  async json<T = any>(args: string[]): Promise<T> {
    return JSON.parse((await this.run([...args, "-o", "json"])).stdout) as T;
  }

  /** Server-side apply of the objects, as one List, with this harness as the field manager. */
  async apply(objects: any[], extra: string[] = []): Promise<string> {
    const input = JSON.stringify({ apiVersion: "v1", kind: "List", items: objects });
    return (await this.run(["apply", "--server-side", "--field-manager", "todo-e2e", ...extra, "-f", "-"], { input })).stdout;
  }

  /** Waits as `kubectl rollout status` does; on timeout, the error carries the pods' state and recent logs. */
  async rolloutStatus(namespace: string, workload: string, timeoutSeconds = 300): Promise<void> {
    const r = await this.run(["-n", namespace, "rollout", "status", workload, `--timeout=${timeoutSeconds}s`], { reject: false, timeoutMs: (timeoutSeconds + 30) * 1000 });
    if (r.exitCode !== 0) throw new Error(`${workload} did not roll out within ${timeoutSeconds} s: ${r.stderr.trim()}\n${await this.diagnose(namespace)}`);
  }

  /** Pods, events and the last log lines of every container in the namespace: what a failing wait reports. */
  async diagnose(namespace: string): Promise<string> {
    const parts = [(await this.run(["-n", namespace, "get", "pods", "-o", "wide"], { reject: false })).stdout];
    parts.push((await this.run(["-n", namespace, "get", "events", "--sort-by=.lastTimestamp"], { reject: false })).stdout.split("\n").slice(-30).join("\n"));
    for (const pod of (await this.pods(namespace).catch(() => []))) {
      for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
        const logs = await this.run(["-n", namespace, "logs", pod.metadata.name, "-c", c.name, "--tail=20"], { reject: false });
        parts.push(`--- ${pod.metadata.name}/${c.name}:\n${(logs.stdout + logs.stderr).trim()}`);
      }
    }
    return parts.join("\n");
  }

  async pods(namespace: string, selector?: string): Promise<any[]> {
    return (await this.json(["-n", namespace, "get", "pods", ...(selector ? ["-l", selector] : [])])).items;
  }

  /** kubectl exec; returns the output and exit code (never throws on a non-zero exit). */
  async exec(namespace: string, pod: string, container: string, command: string[]) {
    return this.run(["-n", namespace, "exec", pod, "-c", container, "--", ...command], { reject: false });
  }

  /** Start-to-ready figures of running pods, from their status timestamps. */
  static readiness(pods: any[]): ReadyFigure[] {
    const t = (s?: string) => (s ? Date.parse(s) / 1000 : NaN);
    const out: ReadyFigure[] = [];
    for (const pod of pods) {
      const ready = t(pod.status.conditions?.find((c: any) => c.type === "Ready" && c.status === "True")?.lastTransitionTime);
      const inits = pod.status.initContainerStatuses ?? [];
      const initSeconds = inits.length ? Math.max(...inits.map((s: any) => t(s.state.terminated?.finishedAt))) - Math.min(...inits.map((s: any) => t(s.state.terminated?.startedAt))) : 0;
      for (const s of pod.status.containerStatuses ?? []) {
        out.push({ pod: pod.metadata.name, container: s.name, initSeconds, startToReadySeconds: ready - t(s.state.running?.startedAt), restarts: s.restartCount });
      }
    }
    return out;
  }

  /** Working-set memory of each pod's containers (the kubelet's summary API), in MiB. */
  async memoryMiB(namespace: string): Promise<Record<string, number>> {
    const nodes = (await this.json(["get", "nodes"])).items.map((n: any) => n.metadata.name);
    const out: Record<string, number> = {};
    for (const node of nodes) {
      const summary = JSON.parse((await this.run(["get", "--raw", `/api/v1/nodes/${node}/proxy/stats/summary`])).stdout);
      for (const p of summary.pods ?? []) {
        if (p.podRef.namespace !== namespace) continue;
        for (const c of p.containers ?? []) out[`${p.podRef.name}/${c.name}`] = (c.memory?.workingSetBytes ?? NaN) / 2 ** 20;
      }
    }
    return out;
  }
}

/** Resident memory (VmRSS) of each process the local cluster started, from its PID files, in MiB. */
export function nodeProcessMemoryMiB(env: ClusterEnv, components: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of components) {
    try {
      const pid = readFileSync(join(env.TODO_CLUSTER_HOME, "run", `${c}.pid`), "utf8").trim();
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (rss) out[c] = Number(rss[1]) / 1024;
    } catch {
      log(`no memory figure for ${c}: not running`);
    }
  }
  return out;
}
