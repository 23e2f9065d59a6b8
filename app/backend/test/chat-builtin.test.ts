import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { request, signUp, type Session } from "./support/client.js";
import { startTestPostgres } from "./support/postgres.js";
import { startTestServer } from "./support/server.js";

let url: string;

before(async () => {
  const postgres = await startTestPostgres();
  url = (await startTestServer(await postgres.freshDatabase(), { CHAT_RATE_LIMIT: "1000" })).url;
});

interface ChatBody {
  conversationId: string;
  reply: string;
  toolCalls: { tool: string; arguments: Record<string, unknown>; result: any }[];
}

async function chat(session: Session, message: string, conversationId?: string): Promise<ChatBody> {
  const response = await request<ChatBody>(url, "POST", "/api/chat", {
    token: session.token,
    body: conversationId ? { message, conversationId } : { message },
  });
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body;
}

async function tasksOf(session: Session): Promise<any[]> {
  return (await request(url, "GET", "/api/tasks", { token: session.token })).body.tasks;
}

async function givenTasks(
  session: Session,
  titles: string[],
  completed: string[] = [],
): Promise<Record<string, number>> {
  const ids: Record<string, number> = {};
  for (const title of titles) {
    const created = await request(url, "POST", "/api/tasks", { token: session.token, body: { title } });
    ids[title] = created.body.id;
    if (completed.includes(title)) {
      await request(url, "PATCH", `/api/tasks/${created.body.id}`, { token: session.token, body: { completed: true } });
    }
  }
  return ids;
}

const tools = (body: ChatBody) => body.toolCalls.map((call) => call.tool);

describe("builtin agent: adding tasks", () => {
  const phrasings: [message: string, title: string][] = [
    ["add buy milk", "Buy milk"],
    ["remind me to call mom", "Call mom"],
    ["Add a task to buy groceries", "Buy groceries"],
    ["please add 'pick up dry cleaning' to my list", "Pick up dry cleaning"],
    ["create task: renew passport", "Renew passport"],
    ["new task water the plants", "Water the plants"],
    ["I need to book a dentist appointment", "Book a dentist appointment"],
    ["don't let me forget to pay rent!", "Pay rent"],
    ["Can you please add buy eggs for me?", "Buy eggs"],
    ["todo: call the bank", "Call the bank"],
  ];
  for (const [message, title] of phrasings) {
    it(`"${message}" adds "${title}"`, async () => {
      const user = await signUp(url);
      const body = await chat(user, message);
      assert.deepEqual(tools(body), ["add_task"]);
      assert.equal(body.toolCalls[0]!.result.status, "created");
      assert.match(body.reply, new RegExp(`Added "${title}"`));
      assert.deepEqual(
        (await tasksOf(user)).map((t) => t.title),
        [title],
      );
    });
  }

  it('"add buy milk with description 2 liters, semi-skimmed" stores the description', async () => {
    const user = await signUp(url);
    await chat(user, "add buy milk with description 2 liters, semi-skimmed");
    const [task] = await tasksOf(user);
    assert.equal(task.title, "Buy milk");
    assert.equal(task.description, "2 liters, semi-skimmed");
  });
});

describe("builtin agent: listing tasks", () => {
  let user: Session;
  before(async () => {
    user = await signUp(url);
    await givenTasks(user, ["Buy milk", "Call mom", "Pay rent"], ["Call mom"]);
  });

  for (const message of ["what's still pending?", "What do I have to do today?", "what's left"]) {
    it(`"${message}" lists only pending tasks`, async () => {
      const body = await chat(user, message);
      assert.deepEqual(
        body.toolCalls.map((c) => [c.tool, c.arguments.status]),
        [["list_tasks", "pending"]],
      );
      assert.match(body.reply, /2 pending tasks/);
      assert.match(body.reply, /Buy milk/);
      assert.match(body.reply, /Pay rent/);
      assert.doesNotMatch(body.reply, /Call mom/);
    });
  }

  for (const message of ["show my tasks", "how many tasks do I have?"]) {
    it(`"${message}" lists all tasks and marks the done ones`, async () => {
      const body = await chat(user, message);
      assert.equal(body.toolCalls[0]!.arguments.status, "all");
      assert.match(body.reply, /You have 3 tasks/);
      assert.match(body.reply, /Call mom \(done\)/);
    });
  }

  it('"what have I completed?" lists only completed tasks', async () => {
    const body = await chat(user, "what have I completed?");
    assert.equal(body.toolCalls[0]!.arguments.status, "completed");
    assert.match(body.reply, /1 completed task:/);
    assert.match(body.reply, /Call mom/);
    assert.doesNotMatch(body.reply, /Buy milk/);
  });

  it('"what\'s pending?" with nothing pending says so', async () => {
    const empty = await signUp(url);
    const body = await chat(empty, "what's pending?");
    assert.match(body.reply, /no pending tasks/);
  });
});

describe("builtin agent: long lists", () => {
  it("sees every task, not only the first page: lists 520 and completes the last one by title", async () => {
    const user = await signUp(url);
    const titles = Array.from({ length: 520 }, (_, i) => `Chore number ${i + 1}`);
    titles[519] = "Water the orchids";
    for (let i = 0; i < titles.length; i += 40) {
      await Promise.all(
        titles
          .slice(i, i + 40)
          .map((title) => request(url, "POST", "/api/tasks", { token: user.token, body: { title } })),
      );
    }
    const listed = await chat(user, "show my tasks");
    assert.match(listed.reply, /^You have 520 tasks:/);
    assert.equal(listed.toolCalls[0]!.result.length, 520);
    assert.match(listed.reply, /Water the orchids/);
    const done = await chat(user, "complete the orchids one");
    assert.deepEqual(tools(done), ["list_tasks", "complete_task"]);
    assert.match(done.reply, /"Water the orchids" as done/);
  });
});

describe("builtin agent: completing tasks", () => {
  for (const template of ["mark task {id} done", "I finished task {id}", "task {id} is done", "complete #{id}"]) {
    it(`"${template}" completes that task`, async () => {
      const user = await signUp(url);
      const ids = await givenTasks(user, ["Buy milk", "Call mom"]);
      const body = await chat(user, template.replace("{id}", String(ids["Call mom"])));
      assert.deepEqual(tools(body), ["complete_task"]);
      assert.match(body.reply, /Marked #\d+ "Call mom" as done/);
      const state = Object.fromEntries((await tasksOf(user)).map((t) => [t.title, t.completed]));
      assert.deepEqual(state, { "Buy milk": false, "Call mom": true });
    });
  }

  it('"complete the milk one" completes the only task mentioning milk', async () => {
    const user = await signUp(url);
    await givenTasks(user, ["Buy milk", "Call mom"]);
    const body = await chat(user, "complete the milk one");
    assert.deepEqual(tools(body), ["list_tasks", "complete_task"]);
    assert.match(body.reply, /"Buy milk" as done/);
  });

  it('"check off the laundry" finds the task by a word of its title', async () => {
    const user = await signUp(url);
    await givenTasks(user, ["Do the laundry", "Call mom"]);
    const body = await chat(user, "check off the laundry");
    assert.match(body.reply, /"Do the laundry" as done/);
  });

  it('asks back when "complete the milk one" matches two tasks, then acts on the answer', async () => {
    const user = await signUp(url);
    const ids = await givenTasks(user, ["Buy milk", "Milk the cow", "Call mom"]);
    const question = await chat(user, "complete the milk one");
    assert.deepEqual(tools(question), ["list_tasks"], "nothing is changed while it is ambiguous");
    assert.match(question.reply, /I found 2 tasks matching "milk"/);
    assert.match(question.reply, /Which one/);
    assert.ok((await tasksOf(user)).every((t) => !t.completed));

    const answer = await chat(user, "the second one", question.conversationId);
    assert.deepEqual(tools(answer), ["complete_task"]);
    assert.equal(answer.toolCalls[0]!.arguments.task_id, ids["Milk the cow"]);
    const state = Object.fromEntries((await tasksOf(user)).map((t) => [t.title, t.completed]));
    assert.deepEqual(state, { "Buy milk": false, "Milk the cow": true, "Call mom": false });
  });

  it('understands "mark it done" right after adding a task', async () => {
    const user = await signUp(url);
    const added = await chat(user, "add renew the car insurance");
    const done = await chat(user, "mark it done", added.conversationId);
    assert.deepEqual(tools(done), ["complete_task"]);
    assert.equal((await tasksOf(user))[0].completed, true);
  });

  it("says when a task id does not exist and changes nothing", async () => {
    const user = await signUp(url);
    await givenTasks(user, ["Buy milk"]);
    const body = await chat(user, "mark task 999999 done");
    assert.match(body.reply, /couldn't find task #999999/);
    assert.equal((await tasksOf(user))[0].completed, false);
  });

  it("says when no task matches the words", async () => {
    const user = await signUp(url);
    await givenTasks(user, ["Buy milk"]);
    const body = await chat(user, "finish the quarterly report");
    assert.match(body.reply, /couldn't find a task matching "quarterly report"/);
  });
});

describe("builtin agent: deleting and renaming", () => {
  it('"delete task N" deletes it', async () => {
    const user = await signUp(url);
    const ids = await givenTasks(user, ["Buy milk", "Call mom"]);
    const body = await chat(user, `delete task ${ids["Buy milk"]}`);
    assert.deepEqual(tools(body), ["delete_task"]);
    assert.match(body.reply, /Deleted #\d+ "Buy milk"/);
    assert.deepEqual(
      (await tasksOf(user)).map((t) => t.title),
      ["Call mom"],
    );
  });

  it('"remove the milk task" deletes by title', async () => {
    const user = await signUp(url);
    await givenTasks(user, ["Buy milk", "Call mom"]);
    await chat(user, "remove the milk task");
    assert.deepEqual(
      (await tasksOf(user)).map((t) => t.title),
      ["Call mom"],
    );
  });

  it('an ambiguous delete is asked back and "never mind" cancels it', async () => {
    const user = await signUp(url);
    await givenTasks(user, ["Buy milk", "Milk the cow"]);
    const question = await chat(user, "delete milk");
    assert.match(question.reply, /Which one should I delete/);
    const cancel = await chat(user, "never mind", question.conversationId);
    assert.match(cancel.reply, /won't change anything/);
    assert.equal((await tasksOf(user)).length, 2);
  });

  it('"rename task N to call dad" changes the title', async () => {
    const user = await signUp(url);
    const ids = await givenTasks(user, ["Call mom"]);
    const body = await chat(user, `rename task ${ids["Call mom"]} to call dad`);
    assert.deepEqual(tools(body), ["update_task"]);
    assert.match(body.reply, /Renamed task #\d+ to "Call dad"/);
    assert.equal((await tasksOf(user))[0].title, "Call dad");
  });

  it('"update the description of task N to ..." changes the description only', async () => {
    const user = await signUp(url);
    const ids = await givenTasks(user, ["Walk the dog"]);
    await chat(user, `update the description of task ${ids["Walk the dog"]} to use the blue leash`);
    const [task] = await tasksOf(user);
    assert.equal(task.title, "Walk the dog");
    assert.equal(task.description, "use the blue leash");
  });

  it("cannot touch another user's task through the chat", async () => {
    const owner = await signUp(url);
    const intruder = await signUp(url);
    const ids = await givenTasks(owner, ["Owner's task"]);
    const body = await chat(intruder, `delete task ${ids["Owner's task"]}`);
    assert.match(body.reply, /couldn't find task/);
    assert.equal((await tasksOf(owner)).length, 1);
  });
});

describe("builtin agent: conversation and unknown requests", () => {
  for (const [message, pattern] of [
    ["hello", /Hi! I'm your task assistant/],
    ["help", /I can add tasks/],
    ["what can you do?", /I can add tasks/],
    ["thanks!", /You're welcome/],
  ] as const) {
    it(`"${message}" gets a friendly answer without touching tasks`, async () => {
      const user = await signUp(url);
      const body = await chat(user, message);
      assert.match(body.reply, pattern);
      assert.deepEqual(body.toolCalls, []);
    });
  }

  for (const message of ["what is the weather like?", "blah blah", "sing me a song"]) {
    it(`"${message}" is not understood and the reply says what it can do`, async () => {
      const user = await signUp(url);
      const body = await chat(user, message);
      assert.match(body.reply, /Sorry, I didn't understand/);
      assert.match(body.reply, /add buy milk/);
      assert.deepEqual(body.toolCalls, []);
      assert.deepEqual(await tasksOf(user), []);
    });
  }
});
