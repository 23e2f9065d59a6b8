// Runs one httpGet or tcpSocket probe from inside a pod's network namespace against the pod IP,
// as the kubelet does (so an app listening on loopback only fails it, as it would in a cluster):
// exit 0 on success (HTTP 200-399, or a TCP connect), 1 otherwise.
// Usage: node probe.mjs '<json>' with {host, http:{port,path,scheme,headers}} or {host, tcp:{port}}, timeoutMs.
import http from "node:http";
import https from "node:https";
import net from "node:net";

const spec = JSON.parse(process.argv[2]);
const fail = (why) => {
  process.stdout.write(`${why}\n`);
  process.exit(1);
};
const timer = setTimeout(() => fail(`timed out after ${spec.timeoutMs} ms`), spec.timeoutMs);

if (spec.http) {
  const { port, path, scheme, headers } = spec.http;
  const client = scheme === "https" ? https : http;
  // The kubelet does not verify certificates, and sends its own User-Agent.
  const req = client.get({ host: spec.host, port, path, headers: { "User-Agent": "kube-probe/e2e", ...headers }, rejectUnauthorized: false }, (res) => {
    res.resume();
    clearTimeout(timer);
    if (res.statusCode >= 200 && res.statusCode < 400) process.exit(0);
    fail(`HTTP ${res.statusCode} from ${path}`);
  });
  req.on("error", (e) => fail(`${e.code ?? e.message} on ${spec.host}:${port}`));
} else if (spec.tcp) {
  const socket = net.connect({ host: spec.host, port: spec.tcp.port }, () => {
    socket.destroy();
    process.exit(0);
  });
  socket.on("error", (e) => fail(`${e.code ?? e.message} on ${spec.host}:${spec.tcp.port}`));
} else {
  fail(`unknown probe ${process.argv[2]}`);
}
