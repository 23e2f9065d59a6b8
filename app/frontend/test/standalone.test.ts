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

import { raw, uploadThenNext } from "./support/http";
import { freePort, startFrontend, type Running } from "./support/processes";

let upstream: http.Server;
let frontend: Running;
let seen: http.IncomingHttpHeaders = {};
let finishStream: (() => void) | undefined;
const TOO_LARGE = { error: { code: "payload_too_large", message: "The request body is larger than the 64 KiB limit" } };

before(async () => {
  upstream = http.createServer((req, res) => {
    seen = req.headers;
    if (req.url === "/api/too-large") {
      // Refuses before reading the body, as the backend does past its limit.
      res.writeHead(413, { "content-type": "application/json" });
      res.end(JSON.stringify(TOO_LARGE));
      return;
    }
    if (req.url === "/api/limited") {
      res.writeHead(429, { "content-type": "application/json", "retry-after": "42" });
      res.end(JSON.stringify({ error: { code: "rate_limited", message: "Too many sign-in attempts" } }));
      return;
    }
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

  test("serves the icons each page links to, and /favicon.ico for clients that ask without a link", async () => {
    const page = await (await fetch(`${frontend.url}/sign-in`)).text();
    const links = [...page.matchAll(/<link rel="(icon|apple-touch-icon)" href="([^"]+)"[^>]*>/g)].map((match) => ({ rel: match[1]!, href: match[2]! }));
    assert.deepEqual([...new Set(links.map((link) => link.rel))].sort(), ["apple-touch-icon", "icon"], `links in the page: ${JSON.stringify(links)}`);
    for (const href of [...links.map((link) => link.href), "/favicon.ico"]) {
      const response = await fetch(new URL(href, frontend.url));
      assert.equal(response.status, 200, href);
      assert.match(response.headers.get("content-type") ?? "", /^image\//, href);
      assert.ok((await response.arrayBuffer()).byteLength > 0, href);
    }
  });

  test("proxies /api/* with status, both Set-Cookie headers and the origin asked for", async () => {
    const response = await fetch(`${frontend.url}/api/missing?x=1`, { headers: { cookie: "session=abc" } });
    assert.equal(response.status, 404);
    assert.deepEqual(await response.json(), { url: "/api/missing?x=1" });
    assert.deepEqual(response.headers.getSetCookie(), ["a=1; Path=/; HttpOnly", "b=2; Path=/; HttpOnly"]);
    assert.equal(seen.cookie, "session=abc");
    assert.equal(seen["x-forwarded-host"], new URL(frontend.url).host);
  });

  test("tells the backend the client's address and scheme on /api/auth/*", async () => {
    const response = await fetch(`${frontend.url}/api/auth/get-session`, { headers: { cookie: "session=abc" } });
    assert.equal(response.status, 200);
    assert.equal(seen["x-forwarded-host"], new URL(frontend.url).host);
    assert.equal(seen["x-forwarded-proto"], "http");
    assert.equal(seen["x-forwarded-for"], "127.0.0.1");
  });

  test("passes a 413 answered while the body is still uploading, and the connection carries the next request", { timeout: 30_000 }, async () => {
    const attempts = await uploadThenNext(frontend.url, "/api/too-large", { size: 3 * 1024 * 1024, next: { path: "/api/missing" } });
    for (const [index, { refused, next }] of attempts.entries()) {
      assert.equal(refused.status, 413, `attempt ${index + 1}: ${refused.body}`);
      assert.deepEqual(JSON.parse(refused.body.toString()), TOO_LARGE);
      assert.equal(next.status, 404, `attempt ${index + 1}: the request after the 413`);
    }
  });

  test("passes a 429 through with its Retry-After", async () => {
    const response = await fetch(`${frontend.url}/api/limited`);
    assert.equal(response.status, 429);
    assert.equal(response.headers.get("retry-after"), "42");
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, "rate_limited");
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

describe("the built frontend server on SIGTERM", () => {
  test("stops taking connections, finishes the answer in flight, then exits 0", { timeout: 30_000 }, async () => {
    const backendUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const leaving = await startFrontend({ backendUrl });
    try {
      const response = await fetch(`${leaving.url}/api/stream`);
      const reader = response.body!.getReader();
      assert.equal(new TextDecoder().decode((await reader.read()).value), "first\n");
      const exited = once(leaving.process, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
      leaving.process.kill("SIGTERM");
      // A new connection is refused while the stream is still open.
      let refused = false;
      for (let tries = 0; tries < 50 && !refused; tries += 1) {
        refused = await fetch(`${leaving.url}/health`).then(
          () => false,
          () => true,
        );
        if (!refused) await new Promise((done) => setTimeout(done, 100));
      }
      assert.ok(refused, "the server still took new connections after SIGTERM");
      assert.equal(leaving.process.exitCode, null, "it left before the answer in flight was finished");
      finishStream!();
      let rest = "";
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
      assert.equal(rest, "second\n");
      assert.deepEqual(await exited, [0, null]);
      assert.match(leaving.output(), /SIGTERM: finishing the requests in flight/);
    } finally {
      await leaving.stop();
    }
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

/** A request's path as sent, unnormalised (fetch() would resolve dot segments itself). */
async function rawGet(base: string, path: string, headers: Record<string, string>): Promise<number> {
  return (await raw(base, path, { headers })).status;
}

/** The paths Better Auth's routes answer, where the backend reads the client's address and origin. */
const AUTH_PATHS = ["/api/auth/sign-in/email", "/api/auth"];

/** Where the backend reads none of them: only X-Forwarded-Host (from Host) is sent. */
function assertOnlyHost(base: string, path: string): void {
  assert.equal(seen["x-forwarded-host"], new URL(base).host, path);
  for (const name of ["x-forwarded-proto", "x-forwarded-for", "x-forwarded-port", "forwarded", "x-real-ip"]) {
    assert.equal(seen[name], undefined, `${name} on ${path}`);
  }
}

function assertFromConnection(base: string, path: string): void {
  assert.equal(seen["x-forwarded-host"], new URL(base).host, path);
  assert.equal(seen["x-forwarded-proto"], "http", path);
  assert.equal(seen["x-forwarded-for"], "127.0.0.1", path);
  assert.equal(seen["x-forwarded-port"], new URL(base).port, path);
  for (const name of ["forwarded", "x-real-ip"]) assert.equal(seen[name], undefined, `${name} on ${path}`);
}

describe("X-Forwarded-* headers sent by the client", () => {
  test("on /api/auth/* are replaced by what the connection says when TRUST_FORWARDED_HEADERS is unset", async () => {
    for (const path of AUTH_PATHS) {
      seen = {};
      assert.equal(await rawGet(frontend.url, path, FORGED), 200, path);
      assertFromConnection(frontend.url, path);
    }
  });

  test("elsewhere in /api are dropped, all but X-Forwarded-Host from Host, when TRUST_FORWARDED_HEADERS is unset", async () => {
    seen = {};
    assert.equal(await rawGet(frontend.url, "/api/tasks?filter=all", FORGED), 200);
    assertOnlyHost(frontend.url, "/api/tasks");
  });

  test("never reach the backend, whatever spelling of a path the client tries", async () => {
    // Paths a client might hope the backend routes to auth while Next's request hook skips them.
    const paths = ["/api/AUTH/sign-in/email", "/api/%61uth/sign-in/email", "/api/auth%2fsign-in/email", "/api/auth;x/sign-in/email", "/api/tasks/../auth/sign-in/email", "/api/tasks/%2e%2e/auth/sign-in/email"];
    for (const path of paths) {
      seen = {};
      await rawGet(frontend.url, path, FORGED);
      for (const [name, forged] of Object.entries(FORGED)) assert.notEqual(seen[name], forged, `${name} on ${path}`);
    }
  });

  test("are replaced with TRUST_FORWARDED_HEADERS=false and kept with true, on /api/auth/* and elsewhere", async () => {
    const backendUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const untrusting = await startFrontend({ backendUrl, env: { TRUST_FORWARDED_HEADERS: "false" } });
    const trusting = await startFrontend({ backendUrl, env: { TRUST_FORWARDED_HEADERS: "true" } });
    try {
      for (const path of AUTH_PATHS) {
        await rawGet(untrusting.url, path, FORGED);
        assertFromConnection(untrusting.url, path);
      }
      await rawGet(untrusting.url, "/api/tasks", FORGED);
      assertOnlyHost(untrusting.url, "/api/tasks");

      for (const path of [...AUTH_PATHS, "/api/tasks"]) {
        await rawGet(trusting.url, path, FORGED);
        assert.deepEqual(
          Object.fromEntries(Object.keys(FORGED).map((name) => [name, seen[name]])),
          FORGED,
          `all kept on ${path}`,
        );
      }
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
