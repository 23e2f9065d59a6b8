/**
 * The load generator of `npm run bench`, in its own process so that its CPU is
 * not mistaken for the server's and can be reported apart. Reads one LoadSpec as
 * JSON on stdin, prints "started" when the load begins, then one LoadResult as
 * JSON on the last line of stdout.
 */
import autocannon from "autocannon";

export interface LoadSpec {
  url: string;
  connections: number;
  durationSeconds: number;
  method: "GET" | "POST";
  path: string;
  /** Bearer tokens; requests rotate over them so every request is another user's session lookup. */
  tokens: string[];
  /** Request body per token (same index), if the request has one. */
  bodies?: string[];
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** CPU seconds this process used while the load ran. */
  cpuSeconds: number;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const spec = JSON.parse(await readStdin()) as LoadSpec;
let next = 0;
process.stdout.write("started\n");
const cpuBefore = process.cpuUsage();
const result = await autocannon({
  url: spec.url,
  connections: spec.connections,
  duration: spec.durationSeconds,
  requests: [
    {
      method: spec.method,
      path: spec.path,
      setupRequest: (request) => {
        const user = next++ % spec.tokens.length;
        request.headers = {
          ...request.headers,
          authorization: `Bearer ${spec.tokens[user]}`,
          "content-type": "application/json",
        };
        if (spec.bodies) request.body = spec.bodies[user];
        return request;
      },
    },
  ],
});
const cpu = process.cpuUsage(cpuBefore);
const output: LoadResult = {
  requests: result.requests.total,
  rps: result.requests.average,
  p50: result.latency.p50,
  p99: result.latency.p99,
  non2xx: result.non2xx,
  errors: result.errors + result.timeouts,
  cpuSeconds: (cpu.user + cpu.system) / 1e6,
};
process.stdout.write(`${JSON.stringify(output)}\n`);
