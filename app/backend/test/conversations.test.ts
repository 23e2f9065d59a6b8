import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { before, describe, it } from "node:test";
import { assertError, request, signUp, type Session } from "./support/client.js";
import { startTestPostgres } from "./support/postgres.js";
import { startTestServer } from "./support/server.js";
import { onCleanup } from "./support/cleanup.js";
import { createDatabase } from "../src/db/database.js";
import { ConversationService } from "../src/services/conversations.js";

let databaseUrl: string;
let url: string;

before(async () => {
  const postgres = await startTestPostgres();
  databaseUrl = await postgres.freshDatabase();
  url = (await startTestServer(databaseUrl)).url;
});

async function chat(baseUrl: string, session: Session, message: string, conversationId?: string) {
  const response = await request(baseUrl, "POST", "/api/chat", {
    token: session.token,
    body: conversationId ? { message, conversationId } : { message },
  });
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body;
}

describe("conversations", () => {
  it("stores every user and assistant message with the tool calls, in order", async () => {
    const user = await signUp(url);
    const first = await chat(url, user, "add buy milk");
    await chat(url, user, "what's pending?", first.conversationId);
    const read = await request(url, "GET", `/api/conversations/${first.conversationId}`, { token: user.token });
    assert.equal(read.status, 200);
    assert.equal(read.body.id, first.conversationId);
    assert.equal(read.body.title, "add buy milk");
    assert.deepEqual(
      read.body.messages.map((m: any) => [m.role, m.content]),
      [
        ["user", "add buy milk"],
        ["assistant", first.reply],
        ["user", "what's pending?"],
        ["assistant", read.body.messages[3].content],
      ],
    );
    assert.deepEqual(read.body.messages[1].toolCalls, first.toolCalls);
    assert.equal(read.body.messages[3].toolCalls[0].tool, "list_tasks");
    assert.deepEqual(read.body.messages[0].toolCalls, []);
    assert.ok(!("agentState" in read.body.messages[1]), "internal agent state is not exposed");
  });

  it("lists a user's conversations, most recently active first", async () => {
    const user = await signUp(url);
    const older = await chat(url, user, "add one");
    const newer = await chat(url, user, "add two");
    await chat(url, user, "add three", older.conversationId);
    const list = await request(url, "GET", "/api/conversations", { token: user.token });
    assert.deepEqual(
      list.body.conversations.map((c: any) => c.id),
      [older.conversationId, newer.conversationId],
    );
  });

  it("deletes a conversation and its messages; a second delete is 404", async () => {
    const user = await signUp(url);
    const { conversationId } = await chat(url, user, "add something");
    const deleted = await request(url, "DELETE", `/api/conversations/${conversationId}`, { token: user.token });
    assert.equal(deleted.status, 204);
    assertError(
      await request(url, "GET", `/api/conversations/${conversationId}`, { token: user.token }),
      404,
      "not_found",
    );
    assertError(
      await request(url, "DELETE", `/api/conversations/${conversationId}`, { token: user.token }),
      404,
      "not_found",
    );
    const tasks = await request(url, "GET", "/api/tasks", { token: user.token });
    assert.equal(tasks.body.total, 1, "deleting the conversation keeps the tasks it created");
  });

  it("hides other users' conversations: 404 on read, delete and when chatting into them", async () => {
    const owner = await signUp(url);
    const other = await signUp(url);
    const { conversationId } = await chat(url, owner, "add private thing");
    const path = `/api/conversations/${conversationId}`;
    assertError(await request(url, "GET", path, { token: other.token }), 404, "not_found");
    assertError(await request(url, "DELETE", path, { token: other.token }), 404, "not_found");
    assertError(
      await request(url, "POST", "/api/chat", { token: other.token, body: { message: "hi", conversationId } }),
      404,
      "not_found",
    );
    const list = await request(url, "GET", "/api/conversations", { token: other.token });
    assert.deepEqual(list.body.conversations, []);
    const intact = await request(url, "GET", path, { token: owner.token });
    assert.equal(intact.body.messages.length, 2);
  });

  it("rejects malformed conversation ids with 400 and requires sign-in", async () => {
    const user = await signUp(url);
    assertError(
      await request(url, "GET", "/api/conversations/not-a-uuid", { token: user.token }),
      400,
      "invalid_request",
    );
    assertError(await request(url, "GET", "/api/conversations"), 401, "unauthorized");
    assertError(await request(url, "POST", "/api/chat", { body: { message: "hi" } }), 401, "unauthorized");
  });
});

describe("starting a conversation", () => {
  it("creates the conversation and stores its first message in one transaction", async () => {
    const user = await signUp(url);
    const database = createDatabase({ connectionString: databaseUrl, max: 1 });
    onCleanup(() => database.close());
    const conversations = new ConversationService(database);
    // PostgreSQL refuses this message (the API's validation would stop it first): if the
    // conversation were inserted separately, it would be left behind without its message.
    await assert.rejects(conversations.startTurn(user.userId, { message: "hello\u0000" }, 10), /invalid byte sequence/);
    assert.deepEqual(await conversations.list(user.userId), []);
    const started = await conversations.startTurn(user.userId, { message: "hello" }, 10);
    const stored = await conversations.get(user.userId, started.conversationId);
    assert.deepEqual(
      stored.messages.map((m) => [m.role, m.content]),
      [["user", "hello"]],
    );
  });
});

describe("chat request validation", () => {
  let user: Session;
  before(async () => {
    user = await signUp(url);
  });
  const cases: [string, unknown, RegExp][] = [
    ["a blank message", { message: "   " }, /body\.message: must not be blank/],
    ["a missing message", {}, /body\.message/],
    ["an oversized message", { message: "x".repeat(4001) }, /at most 4000 characters/],
    ["a message of the wrong type", { message: 7 }, /expected string/],
    [
      "a malformed conversationId",
      { message: "hi", conversationId: "123" },
      /conversationId: expected a conversation id/,
    ],
    ["an unknown field", { message: "hi", userId: "someone-else" }, /unknown field "userId"/],
    ["a NUL character in the message", { message: "add milk\u0000" }, /body\.message: must not contain NUL characters/],
  ];
  for (const [name, body, pattern] of cases) {
    it(`rejects ${name} with 400`, async () => {
      assertError(
        await request(url, "POST", "/api/chat", { token: user.token, body }),
        400,
        "invalid_request",
        pattern,
      );
    });
  }

  it("answers 404 for a well-formed conversation id that does not exist", async () => {
    assertError(
      await request(url, "POST", "/api/chat", {
        token: user.token,
        body: { message: "hi", conversationId: randomUUID() },
      }),
      404,
      "not_found",
    );
  });
});

describe("stateless chat across replicas", () => {
  it("continues a conversation on a second server instance from the database alone", async () => {
    const replicaB = await startTestServer(databaseUrl);
    const user = await signUp(url);
    for (const title of ["Buy milk", "Milk the cow"]) {
      await request(url, "POST", "/api/tasks", { token: user.token, body: { title } });
    }
    // Replica A asks which task is meant; replica B, which never saw the question, gets the answer.
    const question = await chat(url, user, "complete the milk one");
    assert.match(question.reply, /Which one/);
    const answer = await chat(replicaB.url, user, "the first one", question.conversationId);
    assert.equal(answer.conversationId, question.conversationId);
    assert.match(answer.reply, /"Buy milk" as done/);
    const fromA = await request(url, "GET", `/api/conversations/${question.conversationId}`, { token: user.token });
    assert.equal(fromA.body.messages.length, 4, "both replicas wrote to the same conversation");
  });

  it('understands "mark it done" on another replica than the one that added the task', async () => {
    const replicaB = await startTestServer(databaseUrl);
    const user = await signUp(url);
    const added = await chat(url, user, "add water the plants");
    const done = await chat(replicaB.url, user, "mark it done", added.conversationId);
    assert.deepEqual(
      done.toolCalls.map((call: any) => [call.tool, call.arguments.task_id]),
      [["complete_task", added.toolCalls[0].result.task_id]],
    );
    assert.match(done.reply, /"Water the plants" as done/);
  });
});

describe("chat rate limit (per user)", () => {
  it("answers 429 in the shared shape past the limit, per user", async () => {
    const limited = await startTestServer(databaseUrl, { CHAT_RATE_LIMIT: "2" });
    const user = await signUp(limited.url);
    await chat(limited.url, user, "hello");
    await chat(limited.url, user, "hello");
    const third = await request(limited.url, "POST", "/api/chat", { token: user.token, body: { message: "hello" } });
    assertError(third, 429, "rate_limited", /at most 2 per minute/);
    const other = await signUp(limited.url);
    await chat(limited.url, other, "hello");
  });
});
