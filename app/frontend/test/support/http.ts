/** Requests as a browser or a script sends them, where fetch() would hide what matters. */
import http from "node:http";

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The client's local port: the same for two requests means one connection carried both. */
  clientPort: number;
}

/** A request as sent, path unnormalised, on `agent`'s connections; `upload` bytes are written 64 KiB at a time. */
export function raw(base: string, path: string, options: { method?: string; headers?: http.OutgoingHttpHeaders; upload?: number; agent?: http.Agent } = {}): Promise<RawAnswer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const request = http.request({ host: hostname, port, path, method: options.method ?? "GET", headers: options.headers, agent: options.agent ?? false });
    request.on("error", reject);
    request.on("response", (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", reject);
      response.on("end", () =>
        resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks), clientPort: request.socket!.localPort! }),
      );
    });
    const total = options.upload ?? 0;
    const chunk = Buffer.alloc(64 * 1024, "a");
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent += chunk.length;
        if (!request.write(chunk)) return void request.once("drain", pump);
      }
      request.end();
    };
    pump();
  });
}

export interface UploadThenNext {
  /** The answer to the upload. */
  readonly refused: RawAnswer;
  /** The answer to the request sent after it. */
  readonly next: RawAnswer;
}

/**
 * Uploads `size` bytes to `path` and then sends `next` on the same keep-alive
 * connection, `attempts` times over (the failure it guards against was a race,
 * so one try proves little). Fails when the next request needed a new connection.
 */
export async function uploadThenNext(
  base: string,
  path: string,
  options: { size: number; headers?: http.OutgoingHttpHeaders; next: { path: string; method?: string }; attempts?: number },
): Promise<UploadThenNext[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const results: UploadThenNext[] = [];
  try {
    for (let attempt = 1; attempt <= (options.attempts ?? 3); attempt += 1) {
      const refused = await raw(base, path, {
        method: "POST",
        headers: { "content-type": "application/json", ...options.headers, "content-length": options.size },
        upload: options.size,
        agent,
      });
      const next = await raw(base, options.next.path, { method: options.next.method, agent });
      if (next.clientPort !== refused.clientPort) {
        throw new Error(`attempt ${attempt}: after the answer ${refused.status} to the upload, the next request needed a new connection`);
      }
      results.push({ refused, next });
    }
  } finally {
    agent.destroy();
  }
  return results;
}
