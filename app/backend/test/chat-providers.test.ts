import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { before, describe, it } from "node:test";
import pg from "pg";
import { assertError, request, signUp, type Session } from "./support/client.js";
import { startFakeProvider, type FakeAnswer, type RecordedRequest } from "./support/fake-provider.js";
import { startTestPostgres } from "./support/postgres.js";
import { startTestServer } from "./support/server.js";

let databaseUrl: string;

before(async () => {
  const postgres = await startTestPostgres();
  databaseUrl = await postgres.freshDatabase();
});

const TOOL_NAMES = ["add_task", "list_tasks", "complete_task", "delete_task", "update_task"];

async function storedMessages(url: string, session: Session, conversationId: string) {
  const response = await request(url, "GET", `/api/conversations/${conversationId}`, { token: session.token });
  return response.body.messages as { role: string; content: string; toolCalls: any[] }[];
}

/** Runs `work` while another connection holds an exclusive lock on the tasks table, then releases it. */
async function whileTasksLocked<T>(work: () => Promise<T>): Promise<T> {
  const locker = new pg.Client({ connectionString: databaseUrl });
  await locker.connect();
  try {
    await locker.query("begin");
    await locker.query("lock table tasks in exclusive mode");
    return await work();
  } finally {
    await locker.query("rollback").catch(() => {});
    await locker.end();
  }
}

/** The failed turn is in the conversation: the user's message, then the error's text with its tool calls. */
async function assertFailedTurnStored(url: string, user: Session, message: string, response: any) {
  const messages = await storedMessages(url, user, response.body.error.conversationId);
  assert.deepEqual(
    messages.map((m) => [m.role, m.content]),
    [
      ["user", message],
      ["assistant", response.body.error.message],
    ],
  );
  assert.deepEqual(messages[1]!.toolCalls, response.body.error.toolCalls);
}

async function conversationMessages(url: string, session: Session, conversationId: string) {
  const response = await request(url, "GET", `/api/conversations/${conversationId}`, { token: session.token });
  return response.body.messages.map((m: any) => [m.role, m.content]);
}

// ---- OpenAI Chat Completions wire format ----

function openaiToolCall(id: string, name: string, args: unknown): FakeAnswer {
  return {
    body: {
      id: `chatcmpl-${id}`,
      object: "chat.completion",
      created: 1,
      model: "fake-model",
      choices: [
        {
          index: 0,
          finish_reason: "tool_calls",
          message: {
            role: "assistant",
            content: null,
            tool_calls: [
              {
                id,
                type: "function",
                function: { name, arguments: typeof args === "string" ? args : JSON.stringify(args) },
              },
            ],
          },
        },
      ],
    },
  };
}

function openaiText(text: string): FakeAnswer {
  return {
    body: {
      id: "chatcmpl-final",
      object: "chat.completion",
      created: 1,
      model: "fake-model",
      choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: text } }],
    },
  };
}

async function openaiServer(
  answer: (request: RecordedRequest, index: number) => FakeAnswer,
  env: Record<string, string> = {},
) {
  const fake = await startFakeProvider(answer);
  const server = await startTestServer(databaseUrl, {
    LLM_PROVIDER: "openai",
    LLM_MODEL: "fake-model",
    OPENAI_API_KEY: "sk-test-key",
    OPENAI_BASE_URL: `${fake.url}/v1`,
    ...env,
  });
  return { fake, url: server.url };
}

describe("openai provider (against a local fake of the Chat Completions API)", () => {
  it("runs the tool-calling loop: tools run for the signed-in user, results go back, the final text is the reply", async () => {
    const { fake, url } = await openaiServer(
      (_request, index) =>
        [
          openaiToolCall("call_1", "add_task", { title: "Buy milk" }),
          openaiToolCall("call_2", "list_tasks", { status: "pending" }),
          openaiText("Added Buy milk. You have 1 pending task."),
        ][index]!,
    );
    const user = await signUp(url);
    const response = await request(url, "POST", "/api/chat", { token: user.token, body: { message: "add buy milk" } });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.reply, "Added Buy milk. You have 1 pending task.");
    assert.deepEqual(
      response.body.toolCalls.map((c: any) => [c.tool, c.arguments]),
      [
        ["add_task", { title: "Buy milk" }],
        ["list_tasks", { status: "pending" }],
      ],
    );
    const tasks = await request(url, "GET", "/api/tasks", { token: user.token });
    assert.deepEqual(
      tasks.body.tasks.map((t: any) => t.title),
      ["Buy milk"],
    );

    assert.equal(fake.requests.length, 3);
    const [first, second, third] = fake.requests.map((r) => r.body);
    assert.equal(fake.requests[0]!.path, "/v1/chat/completions");
    assert.equal(fake.requests[0]!.headers.authorization, "Bearer sk-test-key");
    assert.equal(first.model, "fake-model");
    assert.equal(first.tool_choice, "auto");
    assert.deepEqual(
      first.tools.map((t: any) => t.function.name),
      TOOL_NAMES,
    );
    const addTask = first.tools.find((t: any) => t.function.name === "add_task").function.parameters;
    assert.deepEqual(addTask.required, ["title"]);
    assert.ok(!("user_id" in addTask.properties), "the model never chooses the user");
    assert.equal(first.messages[0].role, "system");
    assert.deepEqual(first.messages.at(-1), { role: "user", content: "add buy milk" });
    // The second request carries the assistant's tool call and our tool result for it.
    const toolResult = second.messages.at(-1);
    assert.equal(toolResult.role, "tool");
    assert.equal(toolResult.tool_call_id, "call_1");
    assert.deepEqual(JSON.parse(toolResult.content), {
      task_id: tasks.body.tasks[0].id,
      status: "created",
      title: "Buy milk",
    });
    assert.equal(second.messages.at(-2).tool_calls[0].id, "call_1");
    const listed = JSON.parse(third.messages.at(-1).content);
    assert.deepEqual(
      listed.map((t: any) => t.title),
      ["Buy milk"],
    );
  });

  it("sends the stored conversation history with the next message", async () => {
    const { fake, url } = await openaiServer((_request, index) =>
      openaiText(index === 0 ? "Hello there!" : "Still here."),
    );
    const user = await signUp(url);
    const first = await request(url, "POST", "/api/chat", { token: user.token, body: { message: "hi" } });
    await request(url, "POST", "/api/chat", {
      token: user.token,
      body: { message: "are you there?", conversationId: first.body.conversationId },
    });
    const messages = fake.requests[1]!.body.messages.slice(1);
    assert.deepEqual(messages, [
      { role: "user", content: "hi" },
      { role: "assistant", content: "Hello there!" },
      { role: "user", content: "are you there?" },
    ]);
  });

  it("feeds bad tool arguments back to the model as an error instead of failing", async () => {
    const { fake, url } = await openaiServer((_request, index) =>
      index === 0 ? openaiToolCall("call_bad", "complete_task", "{not json") : openaiText("Sorry, which task?"),
    );
    const user = await signUp(url);
    const response = await request(url, "POST", "/api/chat", { token: user.token, body: { message: "complete it" } });
    assert.equal(response.status, 200);
    assert.match(response.body.toolCalls[0].result.error, /task_id/);
    assert.match(JSON.parse(fake.requests[1]!.body.messages.at(-1).content).error, /task_id/);
  });

  it("stops at the step limit and forces a worded answer on the last step", async () => {
    const { fake, url } = await openaiServer(() => openaiToolCall("call_loop", "list_tasks", {}), {
      LLM_MAX_STEPS: "2",
    });
    const user = await signUp(url);
    const response = await request(url, "POST", "/api/chat", { token: user.token, body: { message: "loop forever" } });
    assert.equal(response.status, 200);
    assert.equal(fake.requests.length, 2);
    assert.equal(fake.requests[1]!.body.tool_choice, "none");
    assert.match(response.body.reply, /stopped after 2 steps/);
    assert.equal(response.body.toolCalls.length, 1, "the tool requested on the last step is not run");
  });

  it("maps a provider failure to 502 and keeps the user's message", async () => {
    const { url } = await openaiServer(() => ({ status: 500, body: { error: { message: "model exploded" } } }));
    const user = await signUp(url);
    const response = await request(url, "POST", "/api/chat", { token: user.token, body: { message: "add buy bread" } });
    assertError(response, 502, "llm_error", /openai model request failed: HTTP 500/);
    assert.match(response.body.error.message, /Your message was saved/);
    const conversationId = response.body.error.conversationId;
    assert.deepEqual(await conversationMessages(url, user, conversationId), [["user", "add buy bread"]]);
  });

  it("maps a provider that does not answer in time to 504 and keeps the user's message", async () => {
    const { url } = await openaiServer(() => ({ delayMs: 5000, body: openaiText("too late").body }), {
      LLM_TIMEOUT_MS: "1000",
    });
    const user = await signUp(url);
    const response = await request(url, "POST", "/api/chat", { token: user.token, body: { message: "add buy eggs" } });
    assertError(response, 504, "llm_timeout", /did not answer in time/);
    assert.deepEqual(await conversationMessages(url, user, response.body.error.conversationId), [
      ["user", "add buy eggs"],
    ]);
  });
});

describe("a model failure after tools already ran", () => {
  it("502: records the tool calls and the failure in the conversation and says what was already done", async () => {
    const { url } = await openaiServer((_request, index) =>
      index === 0
        ? openaiToolCall("call_1", "add_task", { title: "Buy bread" })
        : { status: 500, body: { error: { message: "model exploded" } } },
    );
    const user = await signUp(url);
    const response = await request(url, "POST", "/api/chat", { token: user.token, body: { message: "add buy bread" } });
    assertError(response, 502, "llm_error", /openai model request failed/);
    const taskId = response.body.error.toolCalls[0].result.task_id;
    assert.match(
      response.body.error.message,
      new RegExp(`Your message was saved\\. Already done .*: added "Buy bread" \\(task #${taskId}\\)`),
    );
    assert.deepEqual(
      response.body.error.toolCalls.map((call: any) => [call.tool, call.result.status]),
      [["add_task", "created"]],
    );
    await assertFailedTurnStored(url, user, "add buy bread", response);
  });

  it("504: a tool call still running at the timeout is waited for and recorded, and no new one starts", async () => {
    const { fake, url } = await openaiServer(
      (_request, index) =>
        index === 0
          ? openaiToolCall("call_1", "add_task", { title: "Feed the cat" })
          : { delayMs: 5000, body: openaiText("too late").body },
      { LLM_TIMEOUT_MS: "1000" },
    );
    const user = await signUp(url);
    // Hold the tasks table so the tool's insert is still waiting when the time budget runs out.
    const { pending } = await whileTasksLocked(async () => {
      const pending = request(url, "POST", "/api/chat", { token: user.token, body: { message: "feed the cat" } });
      while (fake.requests.length === 0) await sleep(20);
      await sleep(1500);
      return { pending };
    });
    const response = await pending;
    assertError(response, 504, "llm_timeout", /did not answer in time.*added "Feed the cat"/);
    assert.deepEqual(
      response.body.error.toolCalls.map((call: any) => [call.tool, call.result.status]),
      [["add_task", "created"]],
    );
    const messages = await storedMessages(url, user, response.body.error.conversationId);
    assert.deepEqual(
      messages.map((m) => m.role),
      ["user", "assistant"],
    );
    assert.equal(messages[1]!.toolCalls.length, 1);
    const tasks = await request(url, "GET", "/api/tasks", { token: user.token });
    assert.deepEqual(
      tasks.body.tasks.map((t: any) => t.title),
      ["Feed the cat"],
    );
  });

  it("a database failure in a later tool call: the earlier calls are recorded and the error carries the conversation", async () => {
    // A real PostgreSQL error, deterministically, on the second insert only: a trigger refuses one title.
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`create function refuse_exploding_task() returns trigger language plpgsql as $$
      begin
        if new.title = 'Explode the database' then raise exception 'injected failure for the test'; end if;
        return new;
      end $$`);
    await admin.query(
      "create trigger refuse_exploding_task before insert on tasks for each row execute function refuse_exploding_task()",
    );
    let response;
    let url;
    let user;
    try {
      ({ url } = await openaiServer(
        (_request, index) =>
          [
            openaiToolCall("call_1", "add_task", { title: "Water the plants" }),
            openaiToolCall("call_2", "add_task", { title: "Explode the database" }),
            openaiText("never reached"),
          ][index]!,
      ));
      user = await signUp(url);
      response = await request(url, "POST", "/api/chat", { token: user.token, body: { message: "two tasks" } });
    } finally {
      await admin.query("drop trigger refuse_exploding_task on tasks");
      await admin.query("drop function refuse_exploding_task()");
      await admin.end();
    }
    assertError(response, 500, "internal_error", /Your message was saved\. Already done .*: added "Water the plants"/);
    assert.ok(!response.body.error.message.includes("injected failure"), "the database's text stays in the log");
    assert.deepEqual(
      response.body.error.toolCalls.map((call: any) => [call.tool, call.result.status, call.result.title]),
      [["add_task", "created", "Water the plants"]],
    );
    await assertFailedTurnStored(url, user, "two tasks", response);
  });

  it(
    "504: a tool stuck on a lock is cut off by DATABASE_STATEMENT_TIMEOUT_MS instead of holding the answer",
    { timeout: 60_000 },
    async () => {
      const { fake, url } = await openaiServer(
        (_request, index) =>
          index === 0 ? openaiToolCall("call_1", "add_task", { title: "Stuck behind a lock" }) : openaiText("too late"),
        { LLM_TIMEOUT_MS: "1000", DATABASE_STATEMENT_TIMEOUT_MS: "3000" },
      );
      const user = await signUp(url);
      // Answered while the lock is still held: the insert waiting on it was cancelled.
      const response = await whileTasksLocked(() =>
        request(url, "POST", "/api/chat", { token: user.token, body: { message: "stuck" } }),
      );
      assert.equal(fake.requests.length, 1, "no model call after the tool failed");
      assertError(response, 504, "llm_timeout", /did not answer in time.*Your message was saved; try again/);
      assert.deepEqual(response.body.error.toolCalls, []);
      const tasks = await request(url, "GET", "/api/tasks", { token: user.token });
      assert.deepEqual(tasks.body.tasks, [], "the cancelled insert left nothing behind");
    },
  );
});

// ---- Cohere v2 Chat wire format (snake_case on the wire) ----

function cohereToolCall(id: string, name: string, args: unknown): FakeAnswer {
  return {
    body: {
      id: `cohere-${id}`,
      finish_reason: "TOOL_CALL",
      message: {
        role: "assistant",
        tool_plan: `I will call ${name}.`,
        tool_calls: [{ id, type: "function", function: { name, arguments: JSON.stringify(args) } }],
      },
    },
  };
}

function cohereText(text: string): FakeAnswer {
  return {
    body: {
      id: "cohere-final",
      finish_reason: "COMPLETE",
      message: { role: "assistant", content: [{ type: "text", text }] },
    },
  };
}

async function cohereServer(
  answer: (request: RecordedRequest, index: number) => FakeAnswer,
  env: Record<string, string> = {},
) {
  const fake = await startFakeProvider(answer);
  const server = await startTestServer(databaseUrl, {
    LLM_PROVIDER: "cohere",
    LLM_MODEL: "command-fake",
    COHERE_API_KEY: "co-test-key",
    COHERE_BASE_URL: fake.url,
    ...env,
  });
  return { fake, url: server.url };
}

describe("cohere provider (against a local fake of the v2 Chat API)", () => {
  it("runs the tool-calling loop through the official SDK", async () => {
    let taskId = 0;
    const { fake, url } = await cohereServer((request, index) => {
      if (index === 0) return cohereToolCall("tc_1", "add_task", { title: "Call the plumber" });
      if (index === 1) {
        taskId = JSON.parse(request.body.messages.at(-1).content).task_id;
        return cohereToolCall("tc_2", "complete_task", { task_id: taskId });
      }
      return cohereText("Added and completed: Call the plumber.");
    });
    const user = await signUp(url);
    const response = await request(url, "POST", "/api/chat", {
      token: user.token,
      body: { message: "add call the plumber and mark it done" },
    });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.reply, "Added and completed: Call the plumber.");
    assert.deepEqual(
      response.body.toolCalls.map((c: any) => c.tool),
      ["add_task", "complete_task"],
    );
    const tasks = await request(url, "GET", "/api/tasks", { token: user.token });
    assert.deepEqual(
      tasks.body.tasks.map((t: any) => [t.id, t.title, t.completed]),
      [[taskId, "Call the plumber", true]],
    );

    assert.equal(fake.requests.length, 3);
    assert.equal(fake.requests[0]!.path, "/v2/chat");
    assert.equal(fake.requests[0]!.headers.authorization, "Bearer co-test-key");
    const first = fake.requests[0]!.body;
    assert.equal(first.model, "command-fake");
    assert.deepEqual(
      first.tools.map((t: any) => t.function.name),
      TOOL_NAMES,
    );
    assert.deepEqual(first.messages.at(-1), { role: "user", content: "add call the plumber and mark it done" });
    const second = fake.requests[1]!.body.messages;
    assert.equal(second.at(-2).role, "assistant");
    assert.equal(second.at(-2).tool_calls[0].id, "tc_1");
    assert.equal(second.at(-1).role, "tool");
    assert.equal(second.at(-1).tool_call_id, "tc_1");
  });

  it("forces a worded answer on the last step", async () => {
    const { fake, url } = await cohereServer(
      (request) =>
        request.body.tool_choice === "NONE"
          ? cohereText("Here is what I found.")
          : cohereToolCall("tc", "list_tasks", {}),
      { LLM_MAX_STEPS: "2" },
    );
    const user = await signUp(url);
    const response = await request(url, "POST", "/api/chat", { token: user.token, body: { message: "list" } });
    assert.equal(response.status, 200);
    assert.equal(response.body.reply, "Here is what I found.");
    assert.equal(fake.requests.length, 2);
  });

  it("maps a provider failure to 502 and keeps the user's message", async () => {
    const { url } = await cohereServer(() => ({ status: 503, body: { message: "overloaded" } }));
    const user = await signUp(url);
    const response = await request(url, "POST", "/api/chat", {
      token: user.token,
      body: { message: "add water plants" },
    });
    assertError(response, 502, "llm_error", /cohere model request failed/);
    assert.deepEqual(await conversationMessages(url, user, response.body.error.conversationId), [
      ["user", "add water plants"],
    ]);
  });

  it("maps a provider that does not answer in time to 504", async () => {
    const { url } = await cohereServer(() => ({ delayMs: 5000, body: cohereText("late").body }), {
      LLM_TIMEOUT_MS: "1000",
    });
    const user = await signUp(url);
    const response = await request(url, "POST", "/api/chat", { token: user.token, body: { message: "hello?" } });
    assertError(response, 504, "llm_timeout");
  });
});
