/**
 * The built server (`node .next/standalone/server.js`, as in the image) in
 * front of a stand-in HTTP server: proves the proxy route behaves through
 * Next's own request/response handling, not just as a function.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";

import { freePort, startFrontend, type Running } from "./support/processes";

let upstream: http.Server;
let frontend: Running;
let seen: http.IncomingHttpHeaders = {};
let finishStream: (() => void) | undefined;

before(async () => {
  upstream = http.createServer((req, res) => {
    seen = req.headers;
    if (req.url === "/api/stream") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("first\n");
      finishStream = () => res.end("second\n");
      return;
    }
    res.setHeader("set-cookie", ["a=1; Path=/; HttpOnly", "b=2; Path=/; HttpOnly"]);
    res.writeHead(req.url?.startsWith("/api/missing") ? 404 : 200, { "content-type": "application/json" });
    res.end(JSON.stringify({ url: req.url }));
  });
  upstream.listen(0, "127.0.0.1");
  await once(upstream, "listening");
  frontend = await startFrontend({ backendUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` });
});

after(async () => {
  await frontend?.stop();
  upstream?.closeAllConnections();
  upstream?.close();
});

describe("the built frontend server", () => {
  test("answers /health with 200 without calling the backend", async () => {
    seen = {};
    const response = await fetch(`${frontend.url}/health`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: "ok" });
    assert.deepEqual(seen, {});
  });

  test("serves the sign-in page", async () => {
    const response = await fetch(`${frontend.url}/sign-in`);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /<label[^>]*for="auth-email"/);
  });

  test("proxies /api/* with status, both Set-Cookie headers and the client's address", async () => {
    const response = await fetch(`${frontend.url}/api/missing?x=1`, { headers: { cookie: "session=abc" } });
    assert.equal(response.status, 404);
    assert.deepEqual(await response.json(), { url: "/api/missing?x=1" });
    assert.deepEqual(response.headers.getSetCookie(), ["a=1; Path=/; HttpOnly", "b=2; Path=/; HttpOnly"]);
    assert.equal(seen.cookie, "session=abc");
    assert.equal(seen["x-forwarded-host"], new URL(frontend.url).host);
    assert.equal(seen["x-forwarded-proto"], "http");
    assert.equal(seen["x-forwarded-for"], "127.0.0.1");
  });

  test("streams a response through before the backend has finished it", { timeout: 20_000 }, async () => {
    const response = await fetch(`${frontend.url}/api/stream`);
    const reader = response.body!.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), "first\n");
    finishStream!();
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
    assert.equal(rest, "second\n");
  });
});

/** Headers a client that connects directly might send to pass itself off as another origin. */
const FORGED = {
  "x-forwarded-host": "evil.example",
  "x-forwarded-proto": "https",
  "x-forwarded-for": "203.0.113.7",
  "x-forwarded-port": "443",
  forwarded: "for=203.0.113.7;proto=https;host=evil.example",
  "x-real-ip": "203.0.113.7",
};

describe("X-Forwarded-* headers sent by the client", () => {
  test("are replaced by what the connection says when TRUST_FORWARDED_HEADERS is unset", async () => {
    const response = await fetch(`${frontend.url}/api/echo`, { headers: FORGED });
    assert.equal(response.status, 200);
    assert.equal(seen["x-forwarded-host"], new URL(frontend.url).host);
    assert.equal(seen["x-forwarded-proto"], "http");
    assert.equal(seen["x-forwarded-for"], "127.0.0.1");
    assert.equal(seen.forwarded, undefined);
    assert.equal(seen["x-real-ip"], undefined);
  });

  test("are replaced with TRUST_FORWARDED_HEADERS=false and kept with true", async () => {
    const backendUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const untrusting = await startFrontend({ backendUrl, env: { TRUST_FORWARDED_HEADERS: "false" } });
    const trusting = await startFrontend({ backendUrl, env: { TRUST_FORWARDED_HEADERS: "true" } });
    try {
      await fetch(`${untrusting.url}/api/echo`, { headers: FORGED });
      assert.equal(seen["x-forwarded-host"], new URL(untrusting.url).host);
      assert.equal(seen["x-forwarded-proto"], "http");
      assert.equal(seen["x-forwarded-for"], "127.0.0.1");

      await fetch(`${trusting.url}/api/echo`, { headers: FORGED });
      assert.equal(seen["x-forwarded-host"], "evil.example");
      assert.equal(seen["x-forwarded-proto"], "https");
      assert.equal(seen["x-forwarded-for"], "203.0.113.7");
      assert.equal(seen["x-real-ip"], "203.0.113.7");
    } finally {
      await untrusting.stop();
      await trusting.stop();
    }
  });

  test("an invalid TRUST_FORWARDED_HEADERS is a 500 for the browser and a clear message in the log", async () => {
    const backendUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const confused = await startFrontend({ backendUrl, env: { TRUST_FORWARDED_HEADERS: "sometimes" } });
    try {
      seen = {};
      const response = await fetch(`${confused.url}/api/echo`, { headers: FORGED });
      assert.equal(response.status, 500);
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, "TRUST_FORWARDED_HEADERS_INVALID");
      assert.doesNotMatch(body.error.message, /sometimes/);
      assert.deepEqual(seen, {}, "the backend was not called");
      assert.match(confused.output(), /TRUST_FORWARDED_HEADERS is "sometimes"; expected "true" .* or "false"/);
    } finally {
      await confused.stop();
    }
  });
});

const SECURITY_HEADERS = {
  "x-frame-options": "DENY",
  "content-security-policy": "frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "strict-origin-when-cross-origin",
};

function assertSecurityHeaders(response: Response, what: string): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    assert.equal(response.headers.get(name), value, `${name} on ${what} (status ${response.status})`);
  }
}

describe("security headers", () => {
  test("come with pages, static assets, /health, a 404 and proxied /api/* answers", async () => {
    const page = await fetch(`${frontend.url}/sign-in`);
    assertSecurityHeaders(page, "/sign-in");
    const script = /src="(\/_next\/static\/[^"]+\.js)"/.exec(await page.text())?.[1];
    assert.ok(script, "the sign-in page loads a script from /_next/static");
    for (const path of ["/", script, "/health", "/no-such-page", "/api/missing", "/api/echo"]) {
      const response = await fetch(`${frontend.url}${path}`, { redirect: "manual" });
      await response.arrayBuffer();
      assertSecurityHeaders(response, path);
    }
  });

  test("come with the proxy's own errors", async () => {
    const lonely = await startFrontend({ backendUrl: `http://127.0.0.1:${await freePort()}` });
    const misconfigured = await startFrontend({ backendUrl: "not a url" });
    try {
      const unavailable = await fetch(`${lonely.url}/api/tasks`);
      assert.equal(unavailable.status, 502);
      assertSecurityHeaders(unavailable, "a 502");
      const invalid = await fetch(`${misconfigured.url}/api/tasks`);
      assert.equal(invalid.status, 500);
      assertSecurityHeaders(invalid, "a 500");
      // The configured value stays on the server.
      assert.doesNotMatch(await invalid.text(), /not a url/);
      assert.match(misconfigured.output(), /BACKEND_URL is "not a url", which is not a URL/);
    } finally {
      await lonely.stop();
      await misconfigured.stop();
    }
  });
});

describe("the built frontend server with no backend", () => {
  test("answers /api/* with a 502 in the API's error shape and /health still with 200", async () => {
    const lonely = await startFrontend({ backendUrl: `http://127.0.0.1:${await freePort()}` });
    try {
      const response = await fetch(`${lonely.url}/api/tasks`);
      assert.equal(response.status, 502);
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, "BACKEND_UNAVAILABLE");
      assert.equal((await fetch(`${lonely.url}/health`)).status, 200);
    } finally {
      await lonely.stop();
    }
  });
});
