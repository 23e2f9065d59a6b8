import http from "node:http";
import type { AddressInfo } from "node:net";
import { onCleanup } from "./cleanup.js";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

export interface FakeAnswer {
  status?: number;
  body: unknown;
  /** Wait this long before answering (to provoke the backend's timeout). */
  delayMs?: number;
}

export interface FakeProvider {
  /** Base URL of the fake, e.g. http://127.0.0.1:PORT */
  url: string;
  requests: RecordedRequest[];
}

/**
 * A local stand-in for a model provider's HTTP API: it records every request
 * the official SDK sends and answers with what the test scripts. No network.
 */
export async function startFakeProvider(
  answer: (request: RecordedRequest, index: number) => FakeAnswer,
): Promise<FakeProvider> {
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk) => (raw += chunk));
    req.on("end", () => {
      const recorded = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: raw ? JSON.parse(raw) : undefined,
      };
      requests.push(recorded);
      const reply = answer(recorded, requests.length - 1);
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(reply.status ?? 200, { "content-type": "application/json" });
        res.end(JSON.stringify(reply.body));
      };
      if (reply.delayMs) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          send();
        }, reply.delayMs);
        timers.add(timer);
      } else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onCleanup(async () => {
    for (const timer of timers) clearTimeout(timer);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}
