// The address the NodePort is published on and the browser goes to. Not loopback:
// Chromium treats http://127.0.0.1 as a secure context and keeps `Secure` cookies
// there, which would hide exactly the bug a user on http://<minikube ip>:30080 hits
// (a session cookie marked Secure over plain http is dropped and sign-in silently fails).
import { networkInterfaces } from "node:os";

/** docker0's IPv4 when the engine has one (host-local), else the first non-internal IPv4. */
export function nonLoopbackAddress(interfaces = networkInterfaces()): string {
  const ipv4 = (name: string) =>
    (interfaces[name] ?? []).find((a) => a.family === "IPv4" && !a.internal)?.address;
  const preferred = ipv4("docker0");
  if (preferred) return preferred;
  for (const name of Object.keys(interfaces)) {
    const address = ipv4(name);
    if (address) return address;
  }
  throw new Error(
    "this machine has no non-loopback IPv4 address; the browser must not use 127.0.0.1 (a secure context that hides Secure-cookie bugs over http)",
  );
}
