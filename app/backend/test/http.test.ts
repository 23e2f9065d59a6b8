import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { before, describe, it } from "node:test";
import { assertError, request, signUp, type Session } from "./support/client.js";
import { startTestPostgres } from "./support/postgres.js";
import { startTestServer } from "./support/server.js";
import { createLogger } from "../src/logger.js";

let url: string;
let user: Session;
/** JSON log lines of the server under test. */
const logLines: Record<string, unknown>[] = [];

before(async () => {
  const postgres = await startTestPostgres();
  const databaseUrl = await postgres.freshDatabase();
  // With a logger of its own, so the test can read the server's log lines.
  const logger = createLogger("info", { write: (line: string) => void logLines.push(JSON.parse(line)) });
  url = (await startTestServer(databaseUrl, {}, { logger })).url;
  user = await signUp(url);
});

describe("content types and JSON bodies", () => {
  it("refuses a JSON document sent as text/plain with 415, naming the type received and the one allowed", async () => {
    const response = await request(url, "POST", "/api/tasks", {
      token: user.token,
      rawBody: JSON.stringify({ title: "x" }),
      headers: { "content-type": "text/plain" },
    });
    assertError(response, 415, "unsupported_media_type", /"text\/plain" is not accepted.*application\/json/);
  });

  it("refuses __proto__ and constructor.prototype keys with their own message", async () => {
    for (const rawBody of [
      '{"title":"x","__proto__":{"admin":true}}',
      '{"title":"x","constructor":{"prototype":{}}}',
    ]) {
      const response = await request(url, "POST", "/api/tasks", { token: user.token, rawBody });
      assertError(response, 400, "forbidden_key", /"__proto__" and "constructor" are not allowed/);
    }
  });

  it("says what was wrong with malformed JSON", async () => {
    const response = await request(url, "POST", "/api/tasks", { token: user.token, rawBody: '{"title": ' });
    assertError(response, 400, "invalid_json", /not valid JSON: .*JSON/);
  });

  it('answers a null body with "expected a JSON object, got null"', async () => {
    const response = await request(url, "POST", "/api/tasks", { token: user.token, rawBody: "null" });
    assertError(response, 400, "invalid_request", /^body: expected a JSON object, got null$/);
  });

  it("accepts DELETE with Content-Type: application/json and an empty body", async () => {
    const task = await request(url, "POST", "/api/tasks", { token: user.token, body: { title: "Delete me" } });
    const response = await request(url, "DELETE", `/api/tasks/${task.body.id}`, {
      token: user.token,
      rawBody: "",
      headers: { "content-type": "application/json" },
    });
    assert.equal(response.status, 204, JSON.stringify(response.body));
  });

  it("still refuses a POST whose JSON body is empty", async () => {
    const response = await request(url, "POST", "/api/tasks", { token: user.token, rawBody: "" });
    assertError(response, 400, "invalid_json", /empty/);
  });
});

describe("one error shape everywhere", () => {
  it("answers an unknown /api/auth/* path with 404 in the shared shape", async () => {
    const response = await request(url, "GET", "/api/auth/no-such-endpoint");
    assertError(response, 404, "not_found", /There is no GET \/api\/auth\/no-such-endpoint/);
    assertError(await request(url, "POST", "/api/auth/nope", { body: {} }), 404, "not_found");
  });

  it("answers a known path asked with an unsupported method with 405 and an Allow header", async () => {
    const put = await request(url, "PUT", "/api/tasks/1", { token: user.token, body: { title: "x" } });
    assertError(put, 405, "method_not_allowed", /\/api\/tasks\/1 does not answer PUT/);
    assert.equal(put.headers.get("allow"), "DELETE, GET, HEAD, PATCH");
    const deleteList = await request(url, "DELETE", "/api/tasks", { token: user.token });
    assertError(deleteList, 405, "method_not_allowed");
    assert.equal(deleteList.headers.get("allow"), "GET, HEAD, POST");
    assertError(await request(url, "GET", "/api/nothing-here", { token: user.token }), 404, "not_found");
  });
});

describe("request ids in the log", () => {
  /** The request's log line is written when the response has finished, which may be just after the client has it. */
  const reqIdOf = async (path: string) => {
    for (let attempt = 0; attempt < 50; attempt++) {
      const line = logLines.findLast((logged) => logged.url === path);
      if (line) return line.reqId;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.fail(`no log line for ${path}`);
  };

  it("uses a plain client-sent X-Request-Id as the log's request id", async () => {
    const id = `trace-${randomUUID()}`;
    await request(url, "GET", "/api/missing?plain", { headers: { "x-request-id": id } });
    assert.equal(await reqIdOf("/api/missing?plain"), id);
  });

  it("replaces an oversized or odd X-Request-Id with a generated one", async () => {
    for (const [name, id] of [
      ["long", "a".repeat(129)],
      ["odd", 'evil"} {"level":60'],
    ] as const) {
      await request(url, "GET", `/api/missing?${name}`, { headers: { "x-request-id": id } });
      const logged = await reqIdOf(`/api/missing?${name}`);
      assert.ok(typeof logged === "string" && logged !== id && /^req-[0-9a-z]+$/.test(logged), String(logged));
    }
  });
});

describe("public origin with underscores in host names (docker-compose service names)", () => {
  it("accepts X-Forwarded-Host todo_frontend:3000 and checks the Origin against it", async () => {
    const session = await signUp(url);
    const forwarded = { "x-forwarded-host": "todo_frontend:3000", "x-forwarded-proto": "http" };
    const signOut = await request(url, "POST", "/api/auth/sign-out", {
      cookie: session.cookie,
      body: {},
      headers: { ...forwarded, origin: "http://todo_frontend:3000" },
    });
    assert.equal(signOut.status, 200, JSON.stringify(signOut.body));
  });
});
