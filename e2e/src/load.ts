// Load through the NodePort with autocannon: a fixed number of connections for a fixed time,
// figures reported, not asserted (beyond every response being a success).
import autocannon from "autocannon";

export interface LoadFigures {
  url: string;
  connections: number;
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

export async function load(url: string, headers: Record<string, string>, connections: number, seconds: number): Promise<LoadFigures> {
  const r = await autocannon({ url, connections, duration: seconds, headers, timeout: 10 });
  return {
    url,
    connections,
    seconds,
    requests: r.requests.total,
    requestsPerSecond: r.requests.average,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
  };
}
