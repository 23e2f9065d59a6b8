// Stands in for kube-proxy for one Service whose port differs from its targetPort, or that is
// published as a NodePort: listens on each Service port and forwards every connection, round
// robin, to a ready endpoint on the targetPort. The harness rewrites the endpoints file as pods
// become ready or go away, as the endpoints controller would.
// Usage: node forwarder.mjs <endpoints.json> <port>:<targetPort>...
import { readFileSync } from "node:fs";
import net from "node:net";

const [endpointsFile, ...mappings] = process.argv.slice(2);
let next = 0;

function readyEndpoints() {
  try {
    return JSON.parse(readFileSync(endpointsFile, "utf8")).ready ?? [];
  } catch {
    return [];
  }
}

for (const mapping of mappings) {
  const [port, targetPort] = mapping.split(":").map(Number);
  net
    .createServer((client) => {
      const ready = readyEndpoints();
      // No ready endpoint: the connection is refused, as with a Service that has none.
      if (ready.length === 0) return client.resetAndDestroy();
      const host = ready[next++ % ready.length];
      const upstream = net.connect({ host, port: targetPort });
      client.pipe(upstream).pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on("error", close);
      upstream.on("error", close);
    })
    .listen(port, "0.0.0.0", () => process.stdout.write(`forwarding :${port} -> endpoints:${targetPort}\n`));
}
