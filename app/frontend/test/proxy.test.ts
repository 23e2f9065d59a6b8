/**
 * lib/backend-proxy.ts between two real HTTP servers: a stand-in backend whose
 * behaviour each test chooses by path, and a Node server that hands every
 * request to the proxy, as server.ts does for /api/*.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";

import { raw, uploadThenNext } from "./support/http";
import { createBackendProxy, DEFAULT_BACKEND_URL, parseBackendUrl, parseTarget, parseTrustForwardedHeaders } from "../lib/backend-proxy";

/** What the stand-in backend saw of the last request. */
interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const RATE_LIMITED = { error: { code: "rate_limited", message: "Too many sign-in attempts; try again in 42 s" } };
const TOO_LARGE = { error: { code: "payload_too_large", message: "The request body is larger than the 64 KiB limit" } };

/** A real HTTP server whose behaviour each test chooses by path. */
class Backend {
  readonly server: http.Server;
  last: Seen | undefined;
  /** Resolves when the client of /api/stream has gone away. */
  streamClosed: Promise<void> = Promise.resolve();
  private releaseStream: (() => void) | undefined;

  constructor() {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Lets /stream finish after the test has read its first chunk. */
  release(): void {
    this.releaseStream?.();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? "").split("?")[0];
    // These answer before reading the body, as the real backend does past its body limit.
    if (path === "/api/too-large") {
      this.last = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: "" };
      res.writeHead(413, { "content-type": "application/json" });
      res.end(JSON.stringify(TOO_LARGE));
      return;
    }
    if (path === "/api/too-large-then-reset") {
      // Answers, then drops the connection while the upload is still coming.
      res.writeHead(413, { "content-type": "application/json" });
      res.end(JSON.stringify(TOO_LARGE), () => setTimeout(() => req.socket.destroy(), 100));
      return;
    }

    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    this.last = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString() };
    switch (path) {
      case "/api/echo":
        res.writeHead(201, { "content-type": "application/json", "x-request-id": "abc" });
        res.end(JSON.stringify({ got: this.last.body }));
        return;
      case "/api/auth/sign-in/email":
        res.setHeader("set-cookie", [
          "session_token=s1; Path=/; HttpOnly; SameSite=Lax",
          "session_data=d1; Path=/; HttpOnly; SameSite=Lax",
        ]);
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{}");
        return;
      case "/api/limited":
        res.writeHead(429, { "content-type": "application/json", "retry-after": "42" });
        res.end(JSON.stringify(RATE_LIMITED));
        return;
      case "/api/missing":
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: "NOT_FOUND", message: "Task not found" } }));
        return;
      case "/api/tasks/1":
        res.writeHead(204);
        res.end();
        return;
      case "/api/redirect":
        res.writeHead(302, { location: "/elsewhere" });
        res.end();
        return;
      case "/api/hop":
        res.writeHead(200, { connection: "close, x-hop", "x-hop": "1", "x-kept": "yes", "content-type": "text/plain" });
        res.end("ok");
        return;
      case "/api/gzip":
        res.writeHead(200, { "content-encoding": "gzip", "content-type": "text/plain", vary: "accept-encoding" });
        res.end(gzipSync("plain text"));
        return;
      case "/api/framed":
        res.writeHead(200, { "content-type": "text/plain", "x-frame-options": "SAMEORIGIN" });
        res.end("ok");
        return;
      case "/api/stream":
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write("first\n");
        this.streamClosed = once(res, "close").then(() => {});
        await new Promise<void>((resolve) => (this.releaseStream = resolve));
        res.end("second\n");
        return;
      case "/api/breaks":
        // Promises 100 bytes, sends 5, and dies.
        res.writeHead(200, { "content-type": "text/plain", "content-length": "100" });
        res.write("short");
        setTimeout(() => res.destroy(), 50);
        return;
      default:
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{}");
    }
  }
}

/** The proxy in a Node HTTP server of its own, as server.ts runs it. */
interface Front {
  readonly url: string;
  readonly logged: string[];
  close(): Promise<void>;
}

async function front(backendUrl: string, trustForwardedHeaders?: string): Promise<Front> {
  const logged: string[] = [];
  const proxy = createBackendProxy({ backendUrl, trustForwardedHeaders, log: (message) => logged.push(message) });
  const server = http.createServer((req, res) => proxy.handle(req, res, parseTarget(req.url)));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    logged,
    async close() {
      server.closeAllConnections();
      server.close();
      await proxy.close();
    },
  };
}

const backend = new Backend();
let proxied: Front;
before(async () => {
  backend.server.listen(0, "127.0.0.1");
  await once(backend.server, "listening");
  proxied = await front(backend.url);
});
after(async () => {
  await proxied.close();
  backend.server.closeAllConnections();
  backend.server.close();
});

/** What a client that connects directly might claim, to pass itself off as another origin. */
const FORGED = { "x-forwarded-host": "evil.example", "x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.7" };
const ALL_FORGED = { ...FORGED, "x-forwarded-port": "443", forwarded: "for=203.0.113.7;proto=https", "x-real-ip": "203.0.113.7" };

describe("proxying to the backend", () => {
  test("forwards method, path, query, cookies and body, and returns status, headers and body unchanged", async () => {
    const response = await fetch(`${proxied.url}/api/echo?status=pending&x=%2F`, {
      method: "POST",
      headers: { cookie: "session_token=s1", "content-type": "application/json", authorization: "Bearer t" },
      body: JSON.stringify({ title: "buy milk" }),
    });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get("x-request-id"), "abc");
    assert.deepEqual(await response.json(), { got: '{"title":"buy milk"}' });
    assert.equal(backend.last?.method, "POST");
    assert.equal(backend.last?.url, "/api/echo?status=pending&x=%2F");
    assert.equal(backend.last?.headers.cookie, "session_token=s1");
    assert.equal(backend.last?.headers.authorization, "Bearer t");
    assert.equal(backend.last?.headers["content-type"], "application/json");
    assert.equal(backend.last?.headers.host, new URL(backend.url).host);
  });

  test("keeps every Set-Cookie header separate", async () => {
    const response = await fetch(`${proxied.url}/api/auth/sign-in/email`, { method: "POST", body: "{}" });
    assert.deepEqual(response.headers.getSetCookie(), [
      "session_token=s1; Path=/; HttpOnly; SameSite=Lax",
      "session_data=d1; Path=/; HttpOnly; SameSite=Lax",
    ]);
  });

  test("passes error statuses and bodies through", async () => {
    const response = await fetch(`${proxied.url}/api/missing`);
    assert.equal(response.status, 404);
    assert.deepEqual(await response.json(), { error: { code: "NOT_FOUND", message: "Task not found" } });
  });

  test("passes a 429 through with its Retry-After and body", async () => {
    const response = await fetch(`${proxied.url}/api/limited`);
    assert.equal(response.status, 429);
    assert.equal(response.headers.get("retry-after"), "42");
    assert.deepEqual(await response.json(), RATE_LIMITED);
  });

  test("passes a 204 through with no body, and answers HEAD with headers only", async () => {
    const deleted = await fetch(`${proxied.url}/api/tasks/1`, { method: "DELETE" });
    assert.equal(deleted.status, 204);
    assert.equal(deleted.body, null);
    assert.equal(backend.last?.method, "DELETE");
    const head = await raw(proxied.url, "/api/echo", { method: "HEAD" });
    assert.equal(head.status, 201);
    assert.equal(head.headers["x-request-id"], "abc");
    assert.equal(head.body.length, 0);
    assert.equal(backend.last?.method, "HEAD");
  });

  test("hands redirects to the browser instead of following them", async () => {
    const response = await fetch(`${proxied.url}/api/redirect`, { redirect: "manual" });
    assert.equal(response.status, 302);
    assert.equal(response.headers.get("location"), "/elsewhere");
  });

  test("drops hop-by-hop headers both ways", async () => {
    const answer = await raw(proxied.url, "/api/hop", { headers: { "proxy-authorization": "Basic x", "keep-alive": "timeout=5", connection: "keep-alive, x-secret", "x-secret": "1" } });
    assert.equal(backend.last?.headers["proxy-authorization"], undefined);
    assert.equal(backend.last?.headers["x-secret"], undefined, "a header the client's Connection names is for this hop only");
    assert.equal(answer.headers["x-hop"], undefined);
    assert.equal(answer.headers["x-kept"], "yes");
    assert.equal(answer.body.toString(), "ok");
  });

  test("passes the client's Accept-Encoding on and the encoded bytes back unchanged", async () => {
    const answer = await raw(proxied.url, "/api/gzip", { headers: { "accept-encoding": "gzip, br" } });
    assert.equal(backend.last?.headers["accept-encoding"], "gzip, br");
    assert.equal(answer.headers["content-encoding"], "gzip");
    assert.equal(gunzipSync(answer.body).toString(), "plain text");
  });

  test("adds the security headers to every answer, keeping any the backend chose itself", async () => {
    const plain = await fetch(`${proxied.url}/api/missing`);
    assert.equal(plain.headers.get("x-frame-options"), "DENY");
    assert.equal(plain.headers.get("content-security-policy"), "frame-ancestors 'none'");
    assert.equal(plain.headers.get("x-content-type-options"), "nosniff");
    assert.equal(plain.headers.get("referrer-policy"), "strict-origin-when-cross-origin");
    const framed = await fetch(`${proxied.url}/api/framed`);
    assert.equal(framed.headers.get("x-frame-options"), "SAMEORIGIN");
  });

  test("streams the response: the first chunk arrives before the backend has finished", { timeout: 10_000 }, async () => {
    const response = await fetch(`${proxied.url}/api/stream`);
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const first = await reader.read();
    assert.equal(decoder.decode(first.value), "first\n");
    backend.release();
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += decoder.decode(chunk.value);
    assert.equal(rest, "second\n");
  });

  test("a client that leaves in the middle of a stream ends the backend's request too", { timeout: 10_000 }, async () => {
    const leaving = new AbortController();
    const response = await fetch(`${proxied.url}/api/stream`, { signal: leaving.signal });
    await response.body!.getReader().read();
    leaving.abort();
    // Without it the backend would keep generating (a chat answer) for nobody.
    await backend.streamClosed;
    backend.release();
  });

  test("streams the request body through", async () => {
    const parts = ["part one, ", "part two"];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = parts.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    const response = await fetch(`${proxied.url}/api/echo`, { method: "POST", body, duplex: "half" } as RequestInit);
    assert.deepEqual(await response.json(), { got: "part one, part two" });
  });

  test("cuts the client's answer off when the backend dies in the middle of it, rather than ending it short", async () => {
    await assert.rejects(raw(proxied.url, "/api/breaks"));
    assert.match(proxied.logged.join("\n"), /GET .*\/api\/breaks broke off/, proxied.logged.join("\n"));
  });

  test("keeps a path prefix in BACKEND_URL, and sends the path with dot segments resolved", async () => {
    const prefixed = await front(`${backend.url}/prefix/`);
    try {
      await fetch(`${prefixed.url}/api/echo?a=1`);
      assert.equal(backend.last?.url, "/prefix/api/echo?a=1");
      await raw(prefixed.url, "/api/tasks/%2e%2e/echo");
      assert.equal(backend.last?.url, "/prefix/api/echo");
    } finally {
      await prefixed.close();
    }
  });
});

describe("an answer that comes while the client is still uploading", () => {
  for (const path of ["/api/too-large", "/api/too-large-then-reset"]) {
    test(`reaches the client whole, and its connection carries the next request (${path})`, { timeout: 20_000 }, async () => {
      const attempts = await uploadThenNext(proxied.url, path, { size: 3 * 1024 * 1024, next: { path: "/api/echo", method: "POST" } });
      for (const [index, { refused, next }] of attempts.entries()) {
        assert.equal(refused.status, 413, `attempt ${index + 1}: ${refused.body}; the proxy logged: ${proxied.logged.at(-1)}`);
        assert.deepEqual(JSON.parse(refused.body.toString()), TOO_LARGE);
        assert.notEqual(refused.headers.connection, "close", `attempt ${index + 1}: the proxy gave up the client's connection`);
        assert.equal(next.status, 201, `attempt ${index + 1}: the request after the 413`);
      }
    });
  }
});

describe("X-Forwarded-* and the like", () => {
  test("sets X-Forwarded-Host from the Host asked for on every path when nobody in front set it", async () => {
    for (const path of ["/api/tasks", "/api/auth/get-session"]) {
      await raw(proxied.url, path, { headers: { host: "todo.example:30080" } });
      assert.equal(backend.last?.headers["x-forwarded-host"], "todo.example:30080", path);
    }
  });

  test("on /api/auth/*, untrusted, are replaced by what the connection says", async () => {
    for (const trust of [undefined, "false"]) {
      const untrusting = await front(backend.url, trust);
      try {
        for (const path of ["/api/auth", "/api/auth/sign-in/email", "/api/tasks/../auth/sign-in/email"]) {
          await raw(untrusting.url, path, { headers: { host: "todo.example:30080", ...ALL_FORGED } });
          const seen = backend.last!.headers;
          assert.equal(seen["x-forwarded-host"], "todo.example:30080", path);
          assert.equal(seen["x-forwarded-proto"], "http", path);
          assert.equal(seen["x-forwarded-for"], "127.0.0.1", path);
          assert.equal(seen["x-forwarded-port"], new URL(untrusting.url).port, path);
          assert.equal(seen.forwarded, undefined, path);
          assert.equal(seen["x-real-ip"], undefined, path);
        }
      } finally {
        await untrusting.close();
      }
    }
  });

  test("elsewhere, untrusted, are dropped but for X-Forwarded-Host from Host", async () => {
    await raw(proxied.url, "/api/tasks", { headers: { host: "todo.example:30080", ...ALL_FORGED } });
    const seen = backend.last!.headers;
    assert.equal(seen["x-forwarded-host"], "todo.example:30080");
    for (const name of ["x-forwarded-proto", "x-forwarded-for", "x-forwarded-port", "forwarded", "x-real-ip"]) {
      assert.equal(seen[name], undefined, name);
    }
  });

  test("never reach the backend as the client sent them, whatever spelling of an auth path it tries", async () => {
    const paths = ["/api/AUTH/sign-in/email", "/api/%61uth/sign-in/email", "/api/auth%2fsign-in/email", "/api/auth;x/sign-in/email", "/api/tasks/../auth/sign-in/email", "/api/tasks/%2e%2e/auth/sign-in/email"];
    for (const path of paths) {
      backend.last = undefined;
      await raw(proxied.url, path, { headers: ALL_FORGED });
      const seen = backend.last as Seen | undefined;
      assert.ok(seen, `${path} reached the backend`);
      for (const [name, forged] of Object.entries(ALL_FORGED)) assert.notEqual(seen.headers[name], forged, `${name} on ${path}`);
    }
  });

  test("with TRUST_FORWARDED_HEADERS=true, are kept on every path, and those left out are filled in from this hop", async () => {
    const trusting = await front(backend.url, "true");
    try {
      for (const path of ["/api/auth/sign-in/email", "/api/tasks"]) {
        await raw(trusting.url, path, { headers: { host: "todo-frontend", ...ALL_FORGED } });
        for (const [name, value] of Object.entries(ALL_FORGED)) assert.equal(backend.last!.headers[name], value, `${name} on ${path}`);
      }
      await raw(trusting.url, "/api/tasks", { headers: { host: "todo-frontend", "x-forwarded-proto": "https" } });
      assert.equal(backend.last!.headers["x-forwarded-proto"], "https");
      assert.equal(backend.last!.headers["x-forwarded-host"], "todo-frontend");
      assert.equal(backend.last!.headers["x-forwarded-for"], "127.0.0.1");
    } finally {
      await trusting.close();
    }
  });
});

describe("when the backend cannot be used", () => {
  test("answers 502 in the API's error shape when nothing listens at BACKEND_URL", async () => {
    const closed = http.createServer();
    closed.listen(0, "127.0.0.1");
    await once(closed, "listening");
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, "close");

    const lonely = await front(`http://127.0.0.1:${port}`);
    try {
      const response = await fetch(`${lonely.url}/api/tasks`);
      assert.equal(response.status, 502);
      assert.equal(response.headers.get("cache-control"), "no-store");
      assert.equal(response.headers.get("x-frame-options"), "DENY");
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, "BACKEND_UNAVAILABLE");
      assert.match(body.error.message, /not reachable.*ECONNREFUSED/);
      // The operator's log names the address; the user's message does not.
      assert.match(lonely.logged.join("\n"), new RegExp(`127\\.0\\.0\\.1:${port}/api/tasks`));
      assert.doesNotMatch(body.error.message, new RegExp(String(port)));
      // A client that was uploading gets the same answer, and its connection stays usable.
      const [{ refused, next }] = await uploadThenNext(lonely.url, "/api/tasks", { size: 1024 * 1024, next: { path: "/api/tasks" }, attempts: 1 });
      assert.equal(refused.status, 502);
      assert.equal(next.status, 502);
    } finally {
      await lonely.close();
    }
  });

  test("answers 500 when BACKEND_URL is not a URL, and tells the value to the log, not to the browser", async () => {
    const misconfigured = await front("todo-backend:8000");
    try {
      assert.match(misconfigured.logged.join("\n"), /BACKEND_URL is "todo-backend:8000".*expected http: or https:/, "logged at start");
      const response = await fetch(`${misconfigured.url}/api/tasks`);
      assert.equal(response.status, 500);
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, "BACKEND_URL_INVALID");
      assert.match(body.error.message, /not configured correctly.*server log/);
      assert.doesNotMatch(JSON.stringify(body), /todo-backend/);
      assert.equal(misconfigured.logged.length, 2, "and again with the request");
    } finally {
      await misconfigured.close();
    }
  });

  test("answers 500 when TRUST_FORWARDED_HEADERS is neither true nor false, naming it in the log only", async () => {
    const confused = await front(backend.url, "yes");
    try {
      backend.last = undefined;
      const response = await fetch(`${confused.url}/api/tasks`);
      assert.equal(response.status, 500);
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, "TRUST_FORWARDED_HEADERS_INVALID");
      assert.doesNotMatch(body.error.message, /yes/);
      assert.match(confused.logged.join("\n"), /TRUST_FORWARDED_HEADERS is "yes"; expected "true" .* or "false"/);
      assert.equal(backend.last, undefined, "the backend was not called");
    } finally {
      await confused.close();
    }
  });
});

describe("reading TRUST_FORWARDED_HEADERS", () => {
  test("is off unless set to true", () => {
    assert.equal(parseTrustForwardedHeaders(undefined), false);
    assert.equal(parseTrustForwardedHeaders(""), false);
    assert.equal(parseTrustForwardedHeaders("false"), false);
    assert.equal(parseTrustForwardedHeaders("true"), true);
  });

  test("rejects anything else, with the value and both allowed values in the message", () => {
    for (const value of ["1", "TRUE", "on", "yes"]) {
      assert.match(String(parseTrustForwardedHeaders(value)), new RegExp(`^TRUST_FORWARDED_HEADERS is "${value}"; expected "true" .* or "false"`));
    }
  });
});

describe("reading BACKEND_URL", () => {
  test("defaults to the in-cluster backend Service when unset or empty", () => {
    assert.equal(String(parseBackendUrl(undefined)), `${DEFAULT_BACKEND_URL}/`);
    assert.equal(String(parseBackendUrl("  ")), `${DEFAULT_BACKEND_URL}/`);
  });

  test("rejects values that are not URLs, with the value in the message", () => {
    assert.equal(parseBackendUrl("not a url"), `BACKEND_URL is "not a url", which is not a URL; expected an http(s) URL such as ${DEFAULT_BACKEND_URL}`);
  });

  test("rejects a query string", () => {
    assert.match(String(parseBackendUrl("http://b:8000/?x=1")), /has a query or fragment/);
  });
});
