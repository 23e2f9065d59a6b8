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
