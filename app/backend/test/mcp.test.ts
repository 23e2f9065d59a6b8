import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { assertError, request, signUp, type Session } from "./support/client.js";
import { onCleanup } from "./support/cleanup.js";
import { startTestPostgres, type TestPostgres } from "./support/postgres.js";
import { startTestServer } from "./support/server.js";

let url: string;
let postgres: TestPostgres;
let databaseUrl: string;

before(async () => {
  postgres = await startTestPostgres();
  databaseUrl = await postgres.freshDatabase();
  url = (await startTestServer(databaseUrl)).url;
});

/** A real MCP client (the official SDK) talking Streamable HTTP to POST /mcp with a bearer token. */
async function connect(token: string, baseUrl = url): Promise<Client> {
  const client = new Client({ name: "backend-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  onCleanup(() => client.close());
  return client;
}

async function callTool(client: Client, name: string, args: Record<string, unknown>) {
  const result = await client.callTool({ name, arguments: args });
  const content = result.content as { type: string; text: string }[];
  return { isError: result.isError === true, value: JSON.parse(content[0]!.text) };
}

describe("MCP server at POST /mcp", () => {
  let user: Session;
  let client: Client;
  before(async () => {
    user = await signUp(url);
    client = await connect(user.token);
  });

  it("announces itself and lists the five task tools with their parameters", async () => {
    assert.equal(client.getServerVersion()?.name, "todo-backend");
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [
      "add_task",
      "complete_task",
      "delete_task",
      "list_tasks",
      "update_task",
    ]);
    const add = tools.find((t) => t.name === "add_task")!;
    assert.deepEqual(add.inputSchema.required, ["title"]);
    assert.ok(add.inputSchema.properties && "description" in add.inputSchema.properties);
    assert.ok(!("user_id" in (add.inputSchema.properties ?? {})), "the user comes from the token, not from arguments");
  });

  it("manages the token owner's tasks: add, list, complete, update, delete", async () => {
    const added = await callTool(client, "add_task", { title: "Write MCP test", description: "with the real SDK" });
    assert.equal(added.isError, false);
    assert.equal(added.value.status, "created");
    const id = added.value.task_id;

    const viaApi = await request(url, "GET", `/api/tasks/${id}`, { token: user.token });
    assert.equal(viaApi.body.title, "Write MCP test", "the REST API sees what MCP created");

    const pending = await callTool(client, "list_tasks", { status: "pending" });
    assert.ok(pending.value.some((t: any) => t.id === id && t.completed === false));

    assert.deepEqual((await callTool(client, "complete_task", { task_id: id })).value, {
      task_id: id,
      status: "completed",
      title: "Write MCP test",
    });
    const completed = await callTool(client, "list_tasks", { status: "completed" });
    assert.ok(completed.value.some((t: any) => t.id === id));

    const updated = await callTool(client, "update_task", { task_id: id, title: "Wrote MCP test" });
    assert.equal(updated.value.title, "Wrote MCP test");

    assert.equal((await callTool(client, "delete_task", { task_id: id })).value.status, "deleted");
    assert.equal((await request(url, "GET", `/api/tasks/${id}`, { token: user.token })).status, 404);
  });

  it("reports a missing task and invalid arguments as tool errors", async () => {
    const missing = await callTool(client, "complete_task", { task_id: 987654 });
    assert.equal(missing.isError, true);
    assert.match(missing.value.error, /Task 987654 not found/);
    const invalid = await client.callTool({ name: "add_task", arguments: { title: "" } });
    assert.equal(invalid.isError, true);
  });

  it("cannot see or change another user's tasks", async () => {
    const other = await signUp(url);
    const secret = await request(url, "POST", "/api/tasks", { token: other.token, body: { title: "Other's task" } });
    const listed = await callTool(client, "list_tasks", {});
    assert.ok(!listed.value.some((t: any) => t.id === secret.body.id));
    const attempt = await callTool(client, "delete_task", { task_id: secret.body.id });
    assert.equal(attempt.isError, true);
    assert.equal((await request(url, "GET", `/api/tasks/${secret.body.id}`, { token: other.token })).status, 200);
  });
});

describe("MCP authentication", () => {
  it("answers 401 with a WWW-Authenticate challenge without a valid bearer token", async () => {
    const initialize = {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-03-26", capabilities: {}, clientInfo: { name: "x", version: "1" } },
    };
    const headers = { accept: "application/json, text/event-stream" };
    const anonymous = await request(url, "POST", "/mcp", { body: initialize, headers });
    assertError(anonymous, 401, "unauthorized");
    assert.match(anonymous.headers.get("www-authenticate") ?? "", /^Bearer/);
    assertError(await request(url, "POST", "/mcp", { body: initialize, headers, token: "bogus" }), 401, "unauthorized");
    await assert.rejects(connect("bogus"));
  });

  it("accepts a bearer token only: the session cookie alone is 401", async () => {
    const user = await signUp(url);
    const headers = { accept: "application/json, text/event-stream" };
    const listTools = { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} };
    const byCookie = await request(url, "POST", "/mcp", { body: listTools, headers, cookie: user.cookie });
    assertError(byCookie, 401, "unauthorized", /Bearer/);
    assert.match(byCookie.headers.get("www-authenticate") ?? "", /^Bearer/);
    // The cookie's value is the same signed token: only where it is sent decides.
    const tokenAsCookie = `better-auth.session_token=${encodeURIComponent(user.token)}`;
    assertError(
      await request(url, "POST", "/mcp", { body: listTools, headers, cookie: tokenAsCookie }),
      401,
      "unauthorized",
    );
    const byToken = await request(url, "POST", "/mcp", { body: listTools, headers, token: user.token });
    assert.equal(byToken.status, 200, JSON.stringify(byToken.body));
  });

  it("is stateless: GET and DELETE answer 405", async () => {
    const user = await signUp(url);
    const get = await request(url, "GET", "/mcp", { token: user.token });
    assertError(get, 405, "method_not_allowed");
    assert.equal(get.headers.get("allow"), "POST");
  });
});

describe("MCP tool failures", () => {
  it("refuses NUL characters as invalid arguments instead of passing them to PostgreSQL", async () => {
    const user = await signUp(url);
    const client = await connect(user.token);
    const result = await client.callTool({ name: "add_task", arguments: { title: "milk\u0000" } });
    assert.equal(result.isError, true);
    const text = (result.content as { text: string }[])[0]!.text;
    assert.match(text, /must not contain NUL characters/);
    assert.doesNotMatch(text, /invalid byte sequence|22021/);
  });

  it("tell the client which tool failed, not the database driver's message", async () => {
    // A long session cache lets the request past authentication while PostgreSQL is down.
    const server = await startTestServer(databaseUrl, { SESSION_CACHE_TTL_MS: "60000" });
    const user = await signUp(server.url);
    const client = await connect(user.token, server.url);
    assert.equal((await callTool(client, "list_tasks", {})).isError, false);
    await postgres.stop();
    try {
      const failed = await callTool(client, "add_task", { title: "During the outage" });
      assert.equal(failed.isError, true);
      assert.deepEqual(failed.value, { error: "add_task failed on the server; the error has been logged" });
    } finally {
      await postgres.start();
    }
  });
});
