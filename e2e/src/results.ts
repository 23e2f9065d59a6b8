// The figures of one run, printed and written to e2e/results.md.
import { writeFileSync } from "node:fs";
import type { BaseImage } from "./base-images.ts";
import type { ReadyFigure } from "./kube.ts";
import type { BuildFigures } from "./images.ts";
import type { LoadFigures } from "./load.ts";

export interface Figures {
  startedAt: Date;
  engine?: string;
  machine?: string;
  baseImages: BaseImage[];
  builds: BuildFigures[];
  readiness: ReadyFigure[];
  /** Readiness of pods created again during the scenario (PostgreSQL and backend restarts). */
  restarts: ReadyFigure[];
  memoryIdle: Record<string, number>;
  memoryAfter: Record<string, number>;
  memoryLimits: Record<string, number>;
  load?: LoadFigures;
  /** The frontend's /health under the same load, just before: the same-run yardstick. */
  loadBaseline?: LoadFigures;
  /** The machine's 1-minute load average when the load test started (2 cores: above 2 means contention). */
  loadAverage?: number;
  /** GET /api/tasks answered during `kubectl rollout restart` of the backend. */
  rollout?: { requests: number; failed: number };
  serverVersion?: string;
  /** The cluster binaries' builds (cluster/build.sh), as recorded in the cache: the cold figures. */
  toolBuilds?: { name: string; version: string; seconds: number }[];
  /** cluster/build.sh in this run: reusing the cache when the pins did not change. */
  clusterBuildSeconds?: number;
  /** `scripts/local-cluster.sh up` when this run started the cluster (includes reusing or building the binaries). */
  clusterUpSeconds?: number;
  /** Cluster start to node Ready (from local-cluster.sh). */
  nodeReadySeconds?: number;
  /** First object applied to every workload rolled out. */
  applyToReadySeconds?: number;
  /** Resident memory of the node's processes, after the stack started. */
  nodeMemory: Record<string, number>;
  totalSeconds?: number;
  outcome?: string;
}

const s = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? "n/a" : `${x.toFixed(1)} s`);
const mb = (x: number | undefined) => (x === undefined ? "n/a" : `${x.toFixed(1)} MiB`);

export function renderFigures(f: Figures): string {
  const lines: string[] = [];
  lines.push("# End-to-end figures", "");
  lines.push(`Written by \`npm run test:e2e\` (e2e/src/e2e.test.ts); the last run's figures. Run of ${f.startedAt.toISOString()}${f.outcome ? `, ${f.outcome}` : ""}.`);
  if (f.serverVersion) lines.push(`Kubernetes ${f.serverVersion} (scripts/local-cluster.sh, built from source); the node's Docker Engine ${f.engine ?? "n/a"}; ${f.machine ?? ""}.`);
  lines.push("Figures from one run on a shared machine: compare them within a run, not across machines.", "");

  lines.push("## The cluster", "");
  if (f.toolBuilds?.length) {
    lines.push("Builds of the cluster binaries with the Go module proxy (cold: nothing cached; a warm run reuses the cache and builds nothing):", "", "| project | version | cold build |", "|---|---|---|");
    for (const b of f.toolBuilds) lines.push(`| ${b.name} | ${b.version} | ${s(b.seconds)} |`);
    lines.push(`| all | | ${s(f.toolBuilds.reduce((a, b) => a + b.seconds, 0))} |`, "");
    lines.push(`\`cluster/build.sh\` in this run (warm when the cache holds every pin): ${s(f.clusterBuildSeconds)}.`, "");
  }
  lines.push(`- \`local-cluster.sh up\` in this run: ${f.clusterUpSeconds === undefined ? "cluster was already up" : s(f.clusterUpSeconds)}; cluster start to node Ready: ${s(f.nodeReadySeconds)}`);
  lines.push(`- first object applied to every workload rolled out: ${s(f.applyToReadySeconds)}`, "");
  lines.push("Resident memory of the node's processes once the stack runs:", "", "| process | RSS |", "|---|---|");
  for (const [k, v] of Object.entries(f.nodeMemory)) lines.push(`| ${k} | ${mb(v)} |`);
  lines.push(`| all | ${mb(Object.values(f.nodeMemory).reduce((a, b) => a + b, 0))} |`, "");

  lines.push("## Base images", "", "| image | source | time |", "|---|---|---|");
  for (const b of f.baseImages) lines.push(`| \`${b.ref}\` | ${b.source} | ${s(b.seconds)} |`);

  lines.push("", "## Image builds (BuildKit, as the program's docker.Image declares them)", "");
  lines.push("| image | cold build (no cache) | warm build (one line added) | changed file | app layers above base |", "|---|---|---|---|---|");
  for (const b of f.builds) lines.push(`| \`${b.imageName}\` | ${s(b.coldSeconds)} | ${s(b.warmSeconds)} | \`${b.changedFile}\` | ${(b.appLayerBytes / 2 ** 20).toFixed(1)} MiB above \`${b.baseImage}\` |`);

  const readyTable = (rows: ReadyFigure[]) => {
    lines.push("| pod | container | init containers | container start → ready | restarts |", "|---|---|---|---|---|");
    for (const r of rows) lines.push(`| ${r.pod} | ${r.container} | ${s(r.initSeconds)} | ${s(r.startToReadySeconds)} | ${r.restarts} |`);
  };
  lines.push("", "## Start to ready (the pods' status timestamps, 1 s resolution; readiness is seen at the probe's period)", "");
  readyTable(f.readiness);
  if (f.restarts.length > 0) {
    lines.push("", "Pods created again during the scenario:", "");
    readyTable(f.restarts);
  }

  lines.push("", "## Memory (the kubelet's working set per container)", "", "| container | limit | idle, after start | after the scenario and load |", "|---|---|---|---|");
  for (const name of Object.keys({ ...f.memoryIdle, ...f.memoryAfter })) lines.push(`| ${name} | ${mb(f.memoryLimits[name])} | ${mb(f.memoryIdle[name])} | ${mb(f.memoryAfter[name])} |`);

  if (f.load) {
    const l = f.load;
    lines.push("", "## Load: `GET /api/tasks` through the frontend's NodePort, containers at their manifest CPU limits", "");
    lines.push(`autocannon, ${l.connections} connections for ${l.seconds} s, signed in, against ${l.url}: **${l.requestsPerSecond.toFixed(1)} requests/s**, p50 ${l.p50Ms} ms, **p99 ${l.p99Ms} ms**, ${l.requests} requests, ${l.non2xx} non-2xx, ${l.errors} errors, ${l.timeouts} timeouts.`);
    if (f.loadBaseline) {
      const b = f.loadBaseline;
      lines.push("", `Yardstick from the same run: the frontend's own \`GET /health\` (no backend) under the same ${b.connections} connections for ${b.seconds} s: ${b.requestsPerSecond.toFixed(1)} requests/s, p99 ${b.p99Ms} ms; so \`/api/tasks\` runs at ${((100 * l.requestsPerSecond) / b.requestsPerSecond).toFixed(0)}% of the frontend's bare rate.`);
    }
    if (f.loadAverage !== undefined) lines.push("", `Machine load average (1 min) when the load began: ${f.loadAverage.toFixed(2)} on ${f.machine ?? "this machine"}.`);
  }
  if (f.rollout) {
    lines.push("", "## `kubectl rollout restart` of the backend under traffic", "");
    lines.push(`8 clients looping on \`GET /api/tasks\` through the NodePort during the rollout: ${f.rollout.requests} requests, ${f.rollout.failed} failed.`);
  }
  if (f.totalSeconds !== undefined) lines.push("", `## Total run time`, "", `${s(f.totalSeconds)} (cluster up, base images, builds, apply and rollout, scenario, load, cluster down).`);
  return lines.join("\n") + "\n";
}

export function writeFigures(path: string, f: Figures): string {
  const text = renderFigures(f);
  writeFileSync(path, text);
  return text;
}
