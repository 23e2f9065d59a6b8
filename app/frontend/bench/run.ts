/**
 * `npm run bench`: the standalone output's size and cold start, and the signed-in
 * task list measured straight from the backend and through the frontend's /api
 * proxy in one run, alternating, with the ratio of the two; printed and written
 * to bench/results.md. Needs a fresh `npm run build` (the npm script does it)
 * and app/backend's node_modules.
 */
import { spawn } from "node:child_process";
import { readFile, readdir, stat, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";

import autocannon from "autocannon";

import { FRONTEND_DIR, STANDALONE_SERVER, freePort, startBackend, startFrontend } from "../test/support/processes";

const COLD_STARTS = 7;
const LOAD_SECONDS = 10;
/** Rounds of direct then proxied load; alternating keeps drift on a shared machine out of the ratio. */
const ROUNDS = 3;
const CONNECTIONS = 50;
const TASKS = 50;
const TARGET_SIZE_MB = 60;
const TARGET_COLD_START_MS = 1000;
/** Proxied req/s at least this share of direct. */
const TARGET_RATE_RATIO = 0.6;
/** Proxied p99 at most this multiple of direct. */
const TARGET_P99_RATIO = 2;

async function sizeOf(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path)) total += await sizeOf(join(path, entry));
  return total;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Milliseconds from spawning `node server.js` to the first 200 on /health. */
async function coldStart(): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [STANDALONE_SERVER], {
    cwd: dirname(STANDALONE_SERVER),
    env: { ...process.env, NODE_ENV: "production", HOSTNAME: "127.0.0.1", PORT: String(port), NEXT_TELEMETRY_DISABLED: "1" },
    stdio: "ignore",
  });
  try {
    for (;;) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/health`);
        if (response.status === 200) return performance.now() - started;
      } catch {
        // Not listening yet.
      }
      if (child.exitCode !== null) throw new Error(`server.js exited with ${child.exitCode} before answering`);
      await new Promise((done) => setTimeout(done, 5));
    }
  } finally {
    child.kill("SIGTERM");
    await new Promise((done) => child.once("exit", done));
  }
}

interface Load {
  readonly requestsPerSecond: number;
  readonly latencyP50: number;
  readonly latencyP99: number;
  readonly non2xx: number;
  /** CPU the frontend process spent per request, in ms. */
  readonly frontendCpuMs: number;
}

/** utime + stime of a process, in ms (Linux /proc; clock ticks are 100 Hz there). */
async function cpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function load(url: string, frontendPid: number, headers: Record<string, string> = {}, seconds = LOAD_SECONDS): Promise<Load> {
  const cpuBefore = await cpuMs(frontendPid);
  const result = await autocannon({ url, headers, connections: CONNECTIONS, duration: seconds });
  const cpu = (await cpuMs(frontendPid)) - cpuBefore;
  return {
    requestsPerSecond: result.requests.average,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    non2xx: result.non2xx + result.errors,
    frontendCpuMs: result.requests.total > 0 ? cpu / result.requests.total : 0,
  };
}

async function main(): Promise<void> {
  // Other work on a shared machine skews every figure; say how busy it was.
  const loadBefore = loadavg()[0]!;
  const standaloneBytes = await sizeOf(dirname(STANDALONE_SERVER));
  const standaloneMb = standaloneBytes / 1024 / 1024;

  const starts: number[] = [];
  for (let run = 0; run < COLD_STARTS; run += 1) starts.push(await coldStart());

  const backend = await startBackend();
  const frontend = await startFrontend({ backendUrl: backend.url });
  const frontendPid = frontend.process.pid!;
  let page: Load;
  const direct: Load[] = [];
  const proxied: Load[] = [];
  try {
    const signUp = await fetch(`${frontend.url}/api/auth/sign-up/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: frontend.url },
      body: JSON.stringify({ name: "Bench", email: `bench.${Date.now()}@example.com`, password: "bench password 1" }),
    });
    if (!signUp.ok) throw new Error(`sign-up through the proxy failed: ${signUp.status} ${await signUp.text()}`);
    const cookie = signUp.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    for (let n = 1; n <= TASKS; n += 1) {
      const created = await fetch(`${frontend.url}/api/tasks`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie, origin: frontend.url },
        body: JSON.stringify({ title: `Bench task ${n}` }),
      });
      if (created.status !== 201) throw new Error(`creating a task failed: ${created.status} ${await created.text()}`);
    }
    const listed = (await (await fetch(`${frontend.url}/api/tasks`, { headers: { cookie } })).json()) as { tasks: unknown[] };
    if (listed.tasks.length !== TASKS) throw new Error(`the list has ${listed.tasks.length} tasks, not ${TASKS}`);
    page = await load(`${frontend.url}/`, frontendPid);
    // Warm both paths (JIT, connection pools, PostgreSQL's caches) before anything counts.
    await load(`${backend.url}/api/tasks`, frontendPid, { cookie }, 3);
    await load(`${frontend.url}/api/tasks`, frontendPid, { cookie }, 3);
    for (let round = 0; round < ROUNDS; round += 1) {
      direct.push(await load(`${backend.url}/api/tasks`, frontendPid, { cookie }));
      proxied.push(await load(`${frontend.url}/api/tasks`, frontendPid, { cookie }));
    }
  } finally {
    await frontend.stop();
    await backend.stop();
  }

  const coldMedian = median(starts);
  const verdict = (ok: boolean) => (ok ? "within target" : "OVER TARGET");
  const row = (name: string, l: Load) =>
    `| ${name} | ${l.requestsPerSecond.toFixed(0)} | ${l.latencyP50} | ${l.latencyP99} | ${l.frontendCpuMs.toFixed(2)} | ${l.non2xx} |`;
  const directRate = median(direct.map((l) => l.requestsPerSecond));
  const proxiedRate = median(proxied.map((l) => l.requestsPerSecond));
  const directP99 = median(direct.map((l) => l.latencyP99));
  const proxiedP99 = median(proxied.map((l) => l.latencyP99));
  const rateRatio = proxiedRate / directRate;
  const p99Ratio = proxiedP99 / directP99;
  const proxyCpu = median(proxied.map((l) => l.frontendCpuMs));
  const report = `# Frontend benchmark

Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: Node ${process.version},
${cpus().length} CPUs (${cpus()[0]?.model.trim()}), load average ${loadBefore.toFixed(1)} when it started: a shared
machine, and the load generator, frontend, backend and PostgreSQL share its CPUs, so treat the figures as indicative.

| figure | value | target |
|---|---|---|
| standalone output (\`.next/standalone\`, static assets included) | ${standaloneMb.toFixed(1)} MB | <= ${TARGET_SIZE_MB} MB, ${verdict(standaloneMb <= TARGET_SIZE_MB)} |
| cold start, spawn of \`node server.js\` to first 200 on \`/health\` (median of ${COLD_STARTS}) | ${coldMedian.toFixed(0)} ms | <= ${TARGET_COLD_START_MS} ms, ${verdict(coldMedian <= TARGET_COLD_START_MS)} |
| cold start, fastest / slowest | ${Math.min(...starts).toFixed(0)} / ${Math.max(...starts).toFixed(0)} ms | |
| GET /api/tasks through the frontend, req/s as a share of straight to the backend (medians of ${ROUNDS} rounds) | ${rateRatio.toFixed(2)} (${proxiedRate.toFixed(0)} / ${directRate.toFixed(0)}) | >= ${TARGET_RATE_RATIO}, ${verdict(rateRatio >= TARGET_RATE_RATIO)} |
| GET /api/tasks through the frontend, p99 as a multiple of straight to the backend | ${p99Ratio.toFixed(2)} (${proxiedP99} / ${directP99} ms) | <= ${TARGET_P99_RATIO}, ${verdict(p99Ratio <= TARGET_P99_RATIO)} |
| frontend CPU per proxied request, and the share of the machine that made during the proxied runs | ${proxyCpu.toFixed(2)} ms, ${((proxyCpu * proxiedRate) / 1000).toFixed(2)} of ${cpus().length} CPUs | |

Request rates: autocannon, ${CONNECTIONS} connections for ${LOAD_SECONDS} s each, against the production server
(\`node server.js\`) and the real backend (\`npm run dev\` in app/backend: embedded PostgreSQL), signed in, a list of
${TASKS} tasks; ${ROUNDS} rounds of straight-to-the-backend then through-the-frontend, after 3 s of warm-up for each.
The frontend's CPU is read from /proc before and after each run, so on a direct run it is what the idle frontend spent.

| request | req/s | p50 ms | p99 ms | frontend CPU ms per request | non-2xx or errors |
|---|---|---|---|---|---|
${row("GET / (main page)", page)}
${direct.map((l, round) => `${row(`GET /api/tasks straight to the backend, round ${round + 1}`, l)}\n${row(`GET /api/tasks through the frontend, round ${round + 1}`, proxied[round]!)}`).join("\n")}

How the proxy is built: \`server.ts\` (bundled as \`server.js\`) hands \`/api/*\` to \`lib/backend-proxy.ts\` before
Next sees the request, which forwards it on a pooled undici Agent and streams both bodies through Node's own request
and response; everything else goes to Next. Before, \`/api\` ran through a Next route handler and \`fetch()\`: this
benchmark on that build (d455252, 2026-12-02, same machine) measured 0.22 of direct req/s (484 / 2158), p99 4.18x
(188 / 45 ms) and 1.98 ms of frontend CPU per proxied request. Behind an Ingress (the dev
stack) \`/api\` goes straight to the backend and this path is not used; it serves NodePort and \`minikube service\` setups.
`;
  await writeFile(join(FRONTEND_DIR, "bench", "results.md"), report);
  console.log(report);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
