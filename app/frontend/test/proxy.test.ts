import assert from "node:assert/strict";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";

import { DEFAULT_BACKEND_URL, parseBackendUrl, parseTrustForwardedHeaders, proxyToBackend } from "../lib/backend-proxy";

/** What the stand-in backend saw of the last request. */
interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A real HTTP server whose behaviour each test chooses by path. */
class Backend {
  readonly server: http.Server;
  last: Seen | undefined;
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
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    this.last = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString() };
    const path = (req.url ?? "").split("?")[0];
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
        // A backend that compresses regardless of what was asked.
        res.writeHead(200, { "content-encoding": "gzip", "content-type": "text/plain" });
        res.end(gzipSync("plain text"));
        return;
      case "/api/stream":
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("first\n");
        await new Promise<void>((resolve) => (this.releaseStream = resolve));
        res.end("second\n");
        return;
      default:
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{}");
    }
  }
}

const backend = new Backend();
before(async () => {
  backend.server.listen(0, "127.0.0.1");
  await once(backend.server, "listening");
});
after(() => {
  backend.server.closeAllConnections();
  backend.server.close();
});

const proxy = (request: Request, backendUrl = backend.url, trustForwardedHeaders?: string) =>
  proxyToBackend(request, { backendUrl, trustForwardedHeaders, log: () => {} });

/** What a client that connects directly might claim, to pass itself off as another origin. */
const FORGED = { "x-forwarded-host": "evil.example", "x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.7" };

describe("proxying to the backend", () => {
  test("forwards method, path, query, cookies and body, and returns status, headers and body unchanged", async () => {
    const response = await proxy(
      new Request("http://app.example:3000/api/echo?status=pending&x=%2F", {
        method: "POST",
        headers: { cookie: "session_token=s1", "content-type": "application/json", authorization: "Bearer t" },
        body: JSON.stringify({ title: "buy milk" }),
      }),
    );
    assert.equal(response.status, 201);
    assert.equal(response.headers.get("x-request-id"), "abc");
    assert.deepEqual(await response.json(), { got: '{"title":"buy milk"}' });
    assert.equal(backend.last?.method, "POST");
    assert.equal(backend.last?.url, "/api/echo?status=pending&x=%2F");
    assert.equal(backend.last?.headers.cookie, "session_token=s1");
    assert.equal(backend.last?.headers.authorization, "Bearer t");
    assert.equal(backend.last?.headers["content-type"], "application/json");
  });

  test("keeps every Set-Cookie header separate", async () => {
    const response = await proxy(new Request("http://app.example/api/auth/sign-in/email", { method: "POST", body: "{}" }));
    assert.deepEqual(response.headers.getSetCookie(), [
      "session_token=s1; Path=/; HttpOnly; SameSite=Lax",
      "session_data=d1; Path=/; HttpOnly; SameSite=Lax",
    ]);
  });

  test("passes error statuses and bodies through", async () => {
    const response = await proxy(new Request("http://app.example/api/missing"));
    assert.equal(response.status, 404);
    assert.deepEqual(await response.json(), { error: { code: "NOT_FOUND", message: "Task not found" } });
  });

  test("passes a 204 through with no body", async () => {
    const response = await proxy(new Request("http://app.example/api/tasks/1", { method: "DELETE" }));
    assert.equal(response.status, 204);
    assert.equal(response.body, null);
    assert.equal(backend.last?.method, "DELETE");
  });

  test("hands redirects to the browser instead of following them", async () => {
    const response = await proxy(new Request("http://app.example/api/redirect"));
    assert.equal(response.status, 302);
    assert.equal(response.headers.get("location"), "/elsewhere");
  });

  test("sets X-Forwarded-Host and -Proto from this hop when nobody in front set them", async () => {
    await proxy(new Request("http://internal:3000/api/auth/get-session", { headers: { host: "todo.example:30080" } }));
    assert.equal(backend.last?.headers["x-forwarded-host"], "todo.example:30080");
    assert.equal(backend.last?.headers["x-forwarded-proto"], "http");
    assert.equal(backend.last?.headers.host, new URL(backend.url).host);
  });

  test("with TRUST_FORWARDED_HEADERS=true, keeps the X-Forwarded-* values that an Ingress set", async () => {
    await proxy(new Request("http://internal:3000/api/echo", { headers: { host: "todo-frontend", ...FORGED } }), backend.url, "true");
    assert.equal(backend.last?.headers["x-forwarded-host"], "evil.example");
    assert.equal(backend.last?.headers["x-forwarded-proto"], "https");
    assert.equal(backend.last?.headers["x-forwarded-for"], "203.0.113.7");
  });

  test("by default (and with TRUST_FORWARDED_HEADERS=false), X-Forwarded-Host is the Host the client asked for", async () => {
    for (const trust of [undefined, "", "false"]) {
      await proxy(new Request("http://internal:3000/api/echo", { headers: { host: "todo.example:30080", ...FORGED } }), backend.url, trust);
      assert.equal(backend.last?.headers["x-forwarded-host"], "todo.example:30080", `with TRUST_FORWARDED_HEADERS=${trust}`);
    }
  });

  test("untrusted, outside /api/auth sends only X-Forwarded-Host: the client's -For/-Proto, Forwarded and X-Real-IP are dropped", async () => {
    const claims = { ...FORGED, "x-forwarded-port": "443", forwarded: "for=203.0.113.7", "x-real-ip": "203.0.113.7" };
    for (const trust of [undefined, "false"]) {
      await proxy(new Request("http://internal:3000/api/tasks", { headers: { host: "todo.example:30080", ...claims } }), backend.url, trust);
      const seen = backend.last!.headers;
      assert.equal(seen["x-forwarded-host"], "todo.example:30080");
      for (const name of ["x-forwarded-proto", "x-forwarded-for", "x-forwarded-port", "forwarded", "x-real-ip"]) {
        assert.equal(seen[name], undefined, `${name} with TRUST_FORWARDED_HEADERS=${trust}`);
      }
    }
  });

  test("untrusted, keeps X-Forwarded-For/-Proto on /api/auth, where proxy.ts has left only Next's own", async () => {
    // In the built server proxy.ts has removed the client's values before Next fills these in.
    const nexts = { "x-forwarded-proto": "http", "x-forwarded-for": "192.0.2.10" };
    for (const path of ["/api/auth", "/api/auth/sign-in/email"]) {
      await proxy(new Request(`http://internal:3000${path}`, { headers: { host: "todo.example:30080", ...nexts } }));
      assert.equal(backend.last?.headers["x-forwarded-for"], "192.0.2.10", path);
      assert.equal(backend.last?.headers["x-forwarded-host"], "todo.example:30080", path);
    }
  });

  test("drops hop-by-hop headers both ways", async () => {
    const response = await proxy(
      new Request("http://app.example/api/hop", { headers: { "proxy-authorization": "Basic x", "keep-alive": "timeout=5" } }),
    );
    assert.equal(backend.last?.headers["proxy-authorization"], undefined);
    assert.equal(response.headers.get("x-hop"), null);
    assert.equal(response.headers.get("connection"), null);
    assert.equal(response.headers.get("x-kept"), "yes");
    assert.equal(await response.text(), "ok");
  });

  test("asks for an unencoded body and copes with a backend that compresses anyway", async () => {
    const response = await proxy(new Request("http://app.example/api/gzip", { headers: { "accept-encoding": "gzip, br" } }));
    assert.equal(backend.last?.headers["accept-encoding"], "identity");
    assert.equal(response.headers.get("content-encoding"), null);
    assert.equal(await response.text(), "plain text");
  });

  test("streams the response: the first chunk arrives before the backend has finished", { timeout: 10_000 }, async () => {
    const response = await proxy(new Request("http://app.example/api/stream"));
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const first = await reader.read();
    assert.equal(decoder.decode(first.value), "first\n");
    backend.release();
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += decoder.decode(chunk.value);
    assert.equal(rest, "second\n");
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
    const response = await proxy(
      new Request("http://app.example/api/echo", { method: "POST", body, duplex: "half" } as RequestInit),
    );
    assert.deepEqual(await response.json(), { got: "part one, part two" });
  });

  test("keeps a path prefix in BACKEND_URL", async () => {
    await proxy(new Request("http://app.example/api/echo?a=1"), `${backend.url}/prefix/`);
    assert.equal(backend.last?.url, "/prefix/api/echo?a=1");
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

    const logged: string[] = [];
    const response = await proxyToBackend(new Request("http://app.example/api/tasks"), {
      backendUrl: `http://127.0.0.1:${port}`,
      trustForwardedHeaders: undefined,
      log: (message) => logged.push(message),
    });
    assert.equal(response.status, 502);
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "BACKEND_UNAVAILABLE");
    assert.match(body.error.message, /not reachable.*ECONNREFUSED/);
    // The operator's log names the address; the user's message does not.
    assert.match(logged.join("\n"), new RegExp(`127\\.0\\.0\\.1:${port}/api/tasks`));
    assert.doesNotMatch(body.error.message, new RegExp(String(port)));
  });

  test("answers 500 when BACKEND_URL is not a URL, and tells the value to the log, not to the browser", async () => {
    const logged: string[] = [];
    const response = await proxyToBackend(new Request("http://app.example/api/tasks"), {
      backendUrl: "todo-backend:8000",
      trustForwardedHeaders: undefined,
      log: (message) => logged.push(message),
    });
    assert.equal(response.status, 500);
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "BACKEND_URL_INVALID");
    assert.match(body.error.message, /not configured correctly.*server log/);
    assert.doesNotMatch(JSON.stringify(body), /todo-backend/);
    assert.match(logged.join("\n"), /BACKEND_URL is "todo-backend:8000".*expected http: or https:/);
  });

  test("answers 500 when TRUST_FORWARDED_HEADERS is neither true nor false, naming it in the log only", async () => {
    const logged: string[] = [];
    const response = await proxyToBackend(new Request("http://app.example/api/tasks"), {
      backendUrl: backend.url,
      trustForwardedHeaders: "yes",
      log: (message) => logged.push(message),
    });
    assert.equal(response.status, 500);
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "TRUST_FORWARDED_HEADERS_INVALID");
    assert.doesNotMatch(body.error.message, /yes/);
    assert.match(logged.join("\n"), /TRUST_FORWARDED_HEADERS is "yes"; expected "true" .* or "false"/);
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
