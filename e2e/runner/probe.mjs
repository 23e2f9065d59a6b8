// Runs one httpGet or tcpSocket probe from inside a pod's network namespace, as the kubelet
// would against the pod IP: exit 0 on success (HTTP 200-399, or a TCP connect), 1 otherwise.
// Usage: node probe.mjs '<json>' with {http:{port,path,scheme,headers}} or {tcp:{port}}, timeoutMs.
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
  const req = client.get({ host: "127.0.0.1", port, path, headers: { "User-Agent": "kube-probe/e2e", ...headers }, rejectUnauthorized: false }, (res) => {
    res.resume();
    clearTimeout(timer);
    if (res.statusCode >= 200 && res.statusCode < 400) process.exit(0);
    fail(`HTTP ${res.statusCode} from ${path}`);
  });
  req.on("error", (e) => fail(`${e.code ?? e.message} on port ${port}`));
} else if (spec.tcp) {
  const socket = net.connect({ host: "127.0.0.1", port: spec.tcp.port }, () => {
    socket.destroy();
    process.exit(0);
  });
  socket.on("error", (e) => fail(`${e.code ?? e.message} on port ${spec.tcp.port}`));
} else {
  fail(`unknown probe ${process.argv[2]}`);
}
