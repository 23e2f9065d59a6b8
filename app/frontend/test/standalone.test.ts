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
