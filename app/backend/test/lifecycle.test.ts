import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { before, describe, it } from "node:test";
import { freePort } from "../scripts/embedded-postgres.js";
import { request, signUp } from "./support/client.js";
import { startFakeProvider } from "./support/fake-provider.js";
import { startTestPostgres, type TestPostgres } from "./support/postgres.js";
import { spawnEntry } from "./support/processes.js";
import { startTestServer, TEST_AUTH_SECRET } from "./support/server.js";

let postgres: TestPostgres;
let databaseUrl: string;

before(async () => {
  postgres = await startTestPostgres();
  databaseUrl = await postgres.freshDatabase();
});

/** Polls until `check` holds; bounded, so a broken build fails instead of hanging. */
async function eventually(check: () => Promise<boolean>, attempts = 100): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await sleep(100);
  }
  assert.fail("condition not reached");
}

describe("health and readiness", () => {
  it("/health is 200 and touches nothing; /ready is 200 with its checks", async () => {
    const { url } = await startTestServer(databaseUrl);
    assert.deepEqual((await request(url, "GET", "/health")).body, { status: "ok" });
    const ready = await request(url, "GET", "/ready");
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body.checks, { database: "ok", migrations: "ok" });
  });

  it("/ready turns 503 naming the database when PostgreSQL stops, and 200 again when it returns", async () => {
    const { url } = await startTestServer(databaseUrl);
    const user = await signUp(url);
    assert.equal((await request(url, "GET", "/ready")).status, 200);

    await postgres.stop();
    const down = await request(url, "GET", "/ready");
    assert.equal(down.status, 503);
    assert.equal(down.body.status, "unavailable");
    assert.equal(
      down.body.checks.database,
      "failed: PostgreSQL refused the connection or the query (details in the server log)",
    );
    assert.equal(down.body.error.code, "database_unavailable");
    // The driver's text (address, port, errno) is for the log, not for an unauthenticated endpoint.
    assert.doesNotMatch(JSON.stringify(down.body), /ECONNREFUSED|127\.0\.0\.1|:\d{4,5}/);
    assert.equal((await request(url, "GET", "/health")).status, 200, "liveness stays up: restarting would not help");
    const apiDown = await request(url, "GET", "/api/tasks", { token: user.token });
    assert.ok(apiDown.status >= 500, `API answers ${apiDown.status} while the database is down`);
    assert.equal(apiDown.body.error.code, "internal_error");

    await postgres.start();
    await eventually(async () => (await request(url, "GET", "/ready")).status === 200);
    assert.equal((await request(url, "GET", "/api/tasks", { token: user.token })).status, 200);
  });
});

describe("graceful shutdown on SIGTERM (the real server process)", () => {
  it("answers 503 on /ready at once, finishes the request in flight, closes the pool and exits 0", async () => {
    // A slow model keeps one chat request in flight while the signal arrives.
    const fake = await startFakeProvider(() => ({
      delayMs: 1500,
      body: {
        id: "x",
        object: "chat.completion",
        created: 1,
        model: "m",
        choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: "Finished in time." } }],
      },
    }));
    const port = await freePort();
    const server = spawnEntry("src/server.ts", {
      DATABASE_URL: databaseUrl,
      BETTER_AUTH_SECRET: TEST_AUTH_SECRET,
      PORT: String(port),
      HOST: "127.0.0.1",
      LLM_PROVIDER: "openai",
      OPENAI_BASE_URL: `${fake.url}/v1`,
      SHUTDOWN_DELAY_MS: "1000",
    });
    await server.waitFor(/backend listening/);
    const url = `http://127.0.0.1:${port}`;
    const user = await signUp(url);

    const inFlight = request(url, "POST", "/api/chat", { token: user.token, body: { message: "take your time" } });
    await eventually(async () => fake.requests.length === 1);
    server.child.kill("SIGTERM");
    await server.waitFor(/shutting down/);

    const ready = await request(url, "GET", "/ready");
    assert.equal(ready.status, 503);
    assert.equal(ready.body.error.code, "shutting_down");

    const chat = await inFlight;
    assert.equal(chat.status, 200);
    assert.equal(chat.body.reply, "Finished in time.");

    const result = await server.exited;
    assert.equal(result.code, 0, result.stdout + result.stderr);
    // Order by each log line's own timestamp: pino writes lines asynchronously.
    const events = result.stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { time: string; msg: string; url?: string; statusCode?: number });
    const when = (match: (e: (typeof events)[number]) => boolean) => {
      const event = events.find(match);
      assert.ok(event, `log line missing:\n${result.stdout}`);
      return Date.parse(event.time);
    };
    const shutdownBegan = when((e) => e.msg.startsWith("shutting down"));
    const chatFinished = when((e) => e.url === "/api/chat" && e.statusCode === 200);
    const poolClosed = when((e) => e.msg.includes("database pool closed"));
    assert.ok(shutdownBegan <= chatFinished, "the chat was still in flight when shutdown began");
    assert.ok(chatFinished <= poolClosed, "the pool closed only after the request finished");
    await assert.rejects(fetch(`${url}/health`), "nothing listens any more");
  });
});

describe("configuration at start-up", () => {
  it("refuses to start, naming each bad variable, its value and what is allowed (secrets hidden)", async () => {
    const result = await spawnEntry("src/server.ts", {
      DATABASE_URL: "mysql://root:hunter2@db/todo",
      BETTER_AUTH_SECRET: "too-short-secret",
      PORT: "eighty",
      LLM_PROVIDER: "gpt",
    }).exited;
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /DATABASE_URL expected a postgres:\/\/ or postgresql:\/\/ connection URL \(got "mysql:\/\/root:\*\*\*@db\/todo"\)/,
    );
    assert.match(
      result.stderr,
      /BETTER_AUTH_SECRET is too short: expected at least 32 characters \(value hidden, 16 characters\)/,
    );
    assert.match(result.stderr, /PORT expected a whole number from 1 to 65535 \(got "eighty"\)/);
    assert.match(result.stderr, /LLM_PROVIDER expected one of builtin, openai, cohere \(got "gpt"\)/);
    assert.doesNotMatch(result.stderr, /hunter2|too-short-secret/);
  });
});
