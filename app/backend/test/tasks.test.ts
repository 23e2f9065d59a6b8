import assert from "node:assert/strict";
import http from "node:http";
import { before, describe, it } from "node:test";
import pg from "pg";
import { assertError, request, signUp, type Session } from "./support/client.js";
import { startTestPostgres } from "./support/postgres.js";
import { startTestServer } from "./support/server.js";
import { DRAIN_LIMIT_BYTES, toErrorResponse } from "../src/app.js";

let url: string;
let databaseUrl: string;
let alice: Session;
let bob: Session;

before(async () => {
  const postgres = await startTestPostgres();
  databaseUrl = await postgres.freshDatabase();
  const server = await startTestServer(databaseUrl);
  url = server.url;
  alice = await signUp(url);
  bob = await signUp(url);
});

/**
 * A request on `agent`'s connection whose body of `size` bytes is written 64 KiB at a time, as a
 * browser uploads; `end: false` sends the headers and never finishes the body.
 */
function upload(
  agent: http.Agent,
  path: string,
  headers: Record<string, string>,
  size: number,
  method = "POST",
  end = true,
): Promise<{ status: number; connection: string | undefined; body: string; clientPort: number }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: hostname,
      port,
      path,
      method,
      agent,
      headers: { "content-type": "application/json", origin: url, ...headers },
    });
    req.on("error", reject);
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () =>
        resolve({
          status: res.statusCode!,
          connection: res.headers.connection,
          body,
          clientPort: req.socket!.localPort!,
        }),
      );
    });
    if (!end) return void req.flushHeaders();
    const chunk = Buffer.alloc(64 * 1024, "a");
    let sent = 0;
    const pump = (): void => {
      while (sent < size) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      req.end();
    };
    pump();
  });
}

async function createTask(session: Session, body: Record<string, unknown>) {
  const response = await request(url, "POST", "/api/tasks", { token: session.token, body });
  assert.equal(response.status, 201, JSON.stringify(response.body));
  return response.body;
}

describe("tasks API", () => {
  it("creates a task with defaults and returns it with every field", async () => {
    const task = await createTask(alice, { title: "  Buy milk  " });
    assert.equal(typeof task.id, "number");
    assert.equal(task.title, "Buy milk", "titles are trimmed");
    assert.equal(task.description, null);
    assert.equal(task.completed, false);
    assert.equal(task.priority, "medium");
    assert.equal(task.dueDate, null);
    assert.ok(!Number.isNaN(Date.parse(task.createdAt)));
    assert.ok(!Number.isNaN(Date.parse(task.updatedAt)));
  });

  it("stores description, priority and due date as given", async () => {
    const task = await createTask(alice, {
      title: "File taxes",
      description: "Receipts are in the blue folder",
      priority: "high",
      dueDate: "2031-04-30",
    });
    const read = await request(url, "GET", `/api/tasks/${task.id}`, { token: alice.token });
    assert.equal(read.status, 200);
    assert.deepEqual(
      { description: read.body.description, priority: read.body.priority, dueDate: read.body.dueDate },
      { description: "Receipts are in the blue folder", priority: "high", dueDate: "2031-04-30" },
    );
  });

  it("accepts the session cookie as well as the bearer token", async () => {
    const response = await request(url, "GET", "/api/tasks", { cookie: alice.cookie });
    assert.equal(response.status, 200);
    assert.ok(response.body.tasks.length >= 1);
  });

  it("updates fields partially, completes a task and bumps updatedAt", async () => {
    const task = await createTask(alice, { title: "Walk the dog", description: "Long walk", dueDate: "2031-05-01" });
    /** updated_at as PostgreSQL stores it (microseconds), so two updates in one millisecond still differ. */
    const storedUpdatedAt = async (id: number) => {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        const result = await client.query(
          "select extract(epoch from updated_at)::text as at from tasks where id = $1",
          [id],
        );
        return Number(result.rows[0].at);
      } finally {
        await client.end();
      }
    };
    const created = await storedUpdatedAt(task.id);
    const renamed = await request(url, "PATCH", `/api/tasks/${task.id}`, {
      token: alice.token,
      body: { title: "Walk the dog twice" },
    });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.body.title, "Walk the dog twice");
    assert.equal(renamed.body.description, "Long walk", "fields not sent stay unchanged");
    assert.equal(renamed.body.dueDate, "2031-05-01");
    const afterRename = await storedUpdatedAt(task.id);
    assert.ok(afterRename > created, `updated_at moved from ${created} to ${afterRename}`);
    const done = await request(url, "PATCH", `/api/tasks/${task.id}`, {
      token: alice.token,
      body: { completed: true },
    });
    assert.equal(done.body.completed, true);
    assert.ok((await storedUpdatedAt(task.id)) > afterRename);
    const cleared = await request(url, "PATCH", `/api/tasks/${task.id}`, {
      token: alice.token,
      body: { description: null, dueDate: null },
    });
    assert.equal(cleared.body.description, null);
    assert.equal(cleared.body.dueDate, null, "dueDate: null clears the date");
    const read = await request(url, "GET", `/api/tasks/${task.id}`, { token: alice.token });
    assert.deepEqual([read.body.description, read.body.dueDate, read.body.completed], [null, null, true]);
  });

  it("deletes a task with 204, after which it is gone", async () => {
    const task = await createTask(alice, { title: "Temporary" });
    const deleted = await request(url, "DELETE", `/api/tasks/${task.id}`, { token: alice.token });
    assert.equal(deleted.status, 204);
    assert.equal(deleted.body, "");
    assertError(await request(url, "GET", `/api/tasks/${task.id}`, { token: alice.token }), 404, "not_found");
    assertError(await request(url, "DELETE", `/api/tasks/${task.id}`, { token: alice.token }), 404, "not_found");
  });

  it("filters by status and reports the total", async () => {
    const user = await signUp(url);
    const a = await createTask(user, { title: "A" });
    await createTask(user, { title: "B" });
    await createTask(user, { title: "C" });
    await request(url, "PATCH", `/api/tasks/${a.id}`, { token: user.token, body: { completed: true } });

    const all = await request(url, "GET", "/api/tasks?status=all", { token: user.token });
    assert.deepEqual(
      all.body.tasks.map((t: any) => t.title),
      ["A", "B", "C"],
    );
    assert.equal(all.body.total, 3);
    const pending = await request(url, "GET", "/api/tasks?status=pending", { token: user.token });
    assert.deepEqual(
      pending.body.tasks.map((t: any) => t.title),
      ["B", "C"],
    );
    assert.equal(pending.body.total, 2);
    const completed = await request(url, "GET", "/api/tasks?status=completed", { token: user.token });
    assert.deepEqual(
      completed.body.tasks.map((t: any) => t.title),
      ["A"],
    );
    const defaulted = await request(url, "GET", "/api/tasks", { token: user.token });
    assert.equal(defaulted.body.total, 3, "status defaults to all");
  });

  it("lists tasks in exactly the shape a single read returns", async () => {
    const user = await signUp(url);
    await createTask(user, { title: 'Quotes " and \\ backslashes', description: "Ünïcødé ✓", dueDate: "2030-01-31" });
    await createTask(user, { title: "Plain", priority: "low" });
    const list = await request(url, "GET", "/api/tasks", { token: user.token });
    assert.match(list.headers.get("content-type") ?? "", /application\/json/);
    for (const listed of list.body.tasks) {
      const single = await request(url, "GET", `/api/tasks/${listed.id}`, { token: user.token });
      assert.deepEqual(listed, single.body);
    }
  });

  it("answers with every stored field, exactly as PostgreSQL itself renders the row", async () => {
    // The oracle is independent of the server's code path (pg's type parsers, the response
    // schema's serializer): PostgreSQL formats the row, so a field the serializer drops or
    // a timestamp parsed wrongly shows up as a difference.
    const user = await signUp(url);
    const created = [
      await createTask(user, { title: 'Quotes " and \\ backslashes', description: "Ünïcødé ✓", dueDate: "2030-01-31" }),
      await createTask(user, { title: "Plain", priority: "high" }),
    ];
    const patched = await request(url, "PATCH", `/api/tasks/${created[1].id}`, {
      token: user.token,
      body: { completed: true, description: "now with a note" },
    });
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const stored = await client
      .query(
        `select id, title, description, completed, priority, to_char(due_date, 'YYYY-MM-DD') as "dueDate",
           to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "createdAt",
           to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "updatedAt"
         from tasks where user_id = $1 order by id`,
        [user.userId],
      )
      .finally(() => client.end());
    assert.equal(stored.rows.length, 2);

    const list = await request(url, "GET", "/api/tasks", { token: user.token });
    assert.deepEqual(list.body, { tasks: stored.rows, total: 2 });
    for (const row of stored.rows) {
      const single = await request(url, "GET", `/api/tasks/${row.id}`, { token: user.token });
      assert.deepEqual(single.body, row);
    }
    assert.deepEqual(created[0], stored.rows[0], "POST answers the stored task");
    assert.deepEqual(patched.body, stored.rows[1], "PATCH answers the stored task");
  });

  it("paginates with limit and offset while total counts every match", async () => {
    const user = await signUp(url);
    for (let i = 1; i <= 7; i++) await createTask(user, { title: `Task ${i}` });
    const page = await request(url, "GET", "/api/tasks?limit=3&offset=3", { token: user.token });
    assert.deepEqual(
      page.body.tasks.map((t: any) => t.title),
      ["Task 4", "Task 5", "Task 6"],
    );
    assert.equal(page.body.total, 7);
    const beyond = await request(url, "GET", "/api/tasks?limit=3&offset=50", { token: user.token });
    assert.deepEqual(beyond.body, { tasks: [], total: 7 });
  });
});

describe("user isolation", () => {
  it("never lists another user's tasks", async () => {
    const mine = await createTask(bob, { title: "Bob's secret" });
    const list = await request(url, "GET", "/api/tasks", { token: alice.token });
    assert.ok(!list.body.tasks.some((t: any) => t.id === mine.id));
  });

  it("answers 404 (not 403) for another user's task on read, update and delete, and changes nothing", async () => {
    const bobs = await createTask(bob, { title: "Bob only" });
    assertError(await request(url, "GET", `/api/tasks/${bobs.id}`, { token: alice.token }), 404, "not_found");
    assertError(
      await request(url, "PATCH", `/api/tasks/${bobs.id}`, { token: alice.token, body: { completed: true } }),
      404,
      "not_found",
    );
    assertError(await request(url, "DELETE", `/api/tasks/${bobs.id}`, { token: alice.token }), 404, "not_found");
    const still = await request(url, "GET", `/api/tasks/${bobs.id}`, { token: bob.token });
    assert.equal(still.status, 200);
    assert.equal(still.body.completed, false);
  });
});

describe("authentication of the tasks API", () => {
  it("rejects requests without credentials with 401 and the error shape", async () => {
    assertError(await request(url, "GET", "/api/tasks"), 401, "unauthorized", /Sign in/);
    assertError(await request(url, "POST", "/api/tasks", { body: { title: "x" } }), 401, "unauthorized");
  });

  it("rejects an invalid or forged bearer token", async () => {
    assertError(await request(url, "GET", "/api/tasks", { token: "not-a-token" }), 401, "unauthorized");
    const [id] = alice.token.split(".");
    assertError(await request(url, "GET", "/api/tasks", { token: `${id}.forgedsignature` }), 401, "unauthorized");
  });
});

describe("request validation", () => {
  const cases: { name: string; body: unknown; message: RegExp }[] = [
    { name: "a blank title", body: { title: "   " }, message: /body\.title: must not be blank/ },
    { name: "a missing title", body: { description: "x" }, message: /body\.title/ },
    {
      name: "an oversized title",
      body: { title: "x".repeat(201) },
      message: /body\.title: must be at most 200 characters/,
    },
    {
      name: "an oversized description",
      body: { title: "ok", description: "y".repeat(2001) },
      message: /body\.description: must be at most 2000/,
    },
    { name: "a title of the wrong type", body: { title: 42 }, message: /body\.title: .*expected string.*\(got 42\)/ },
    {
      name: "an unknown field",
      body: { title: "ok", owner: "someone" },
      message: /unknown field "owner" \(allowed: title/,
    },
    { name: "a bad priority", body: { title: "ok", priority: "urgent" }, message: /expected one of low, medium, high/ },
    { name: "a malformed due date", body: { title: "ok", dueDate: "31/12/2030" }, message: /YYYY-MM-DD/ },
    { name: "an impossible due date", body: { title: "ok", dueDate: "2030-02-30" }, message: /real calendar date/ },
    { name: "a JSON array instead of an object", body: ["title"], message: /body: .*expected object/ },
    { name: "a NUL character in the title", body: { title: "a\u0000b" }, message: /body\.title: must not contain NUL/ },
    {
      name: "a NUL character in the description",
      body: { title: "ok", description: "x\u0000" },
      message: /body\.description: must not contain NUL characters/,
    },
    {
      name: "a due date in year 0000 (PostgreSQL has no year zero)",
      body: { title: "ok", dueDate: "0000-12-31" },
      message: /body\.dueDate: expected a real calendar date from 0001-01-01 to 9999-12-31/,
    },
  ];
  for (const { name, body, message } of cases) {
    it(`rejects ${name} with 400`, async () => {
      assertError(
        await request(url, "POST", "/api/tasks", { token: alice.token, body }),
        400,
        "invalid_request",
        message,
      );
    });
  }

  it("accepts the first and last dates PostgreSQL can store", async () => {
    assert.equal((await createTask(alice, { title: "Early", dueDate: "0001-01-01" })).dueDate, "0001-01-01");
    assert.equal((await createTask(alice, { title: "Late", dueDate: "9999-12-31" })).dueDate, "9999-12-31");
  });

  it("rejects NUL characters in a PATCH too, and stores nothing", async () => {
    const task = await createTask(alice, { title: "No NUL here" });
    assertError(
      await request(url, "PATCH", `/api/tasks/${task.id}`, { token: alice.token, body: { title: "bad\u0000" } }),
      400,
      "invalid_request",
      /body\.title: must not contain NUL characters/,
    );
    assert.equal(
      (await request(url, "GET", `/api/tasks/${task.id}`, { token: alice.token })).body.title,
      "No NUL here",
    );
  });

  it("rejects a PATCH with nothing to change, a wrong type for completed and a null title", async () => {
    const task = await createTask(alice, { title: "Patch me" });
    const path = `/api/tasks/${task.id}`;
    assertError(
      await request(url, "PATCH", path, { token: alice.token, body: {} }),
      400,
      "invalid_request",
      /at least one field/,
    );
    assertError(
      await request(url, "PATCH", path, { token: alice.token, body: { completed: "yes" } }),
      400,
      "invalid_request",
      /body\.completed: expected true or false/,
    );
    assertError(
      await request(url, "PATCH", path, { token: alice.token, body: { title: null } }),
      400,
      "invalid_request",
    );
  });

  it("rejects bad ids in the path with 400", async () => {
    for (const id of ["abc", "0", "-1", "1.5", "99999999999"]) {
      assertError(
        await request(url, "GET", `/api/tasks/${id}`, { token: alice.token }),
        400,
        "invalid_request",
        /params\.id/,
      );
    }
  });

  it("rejects bad query parameters with 400", async () => {
    assertError(
      await request(url, "GET", "/api/tasks?status=done", { token: alice.token }),
      400,
      "invalid_request",
      /query\.status/,
    );
    assertError(
      await request(url, "GET", "/api/tasks?limit=0", { token: alice.token }),
      400,
      "invalid_request",
      /query\.limit/,
    );
    assertError(
      await request(url, "GET", "/api/tasks?limit=abc", { token: alice.token }),
      400,
      "invalid_request",
      /query\.limit/,
    );
    assertError(
      await request(url, "GET", "/api/tasks?sort=title", { token: alice.token }),
      400,
      "invalid_request",
      /"sort"/,
    );
  });

  it("rejects malformed JSON and a missing body with 400", async () => {
    assertError(
      await request(url, "POST", "/api/tasks", { token: alice.token, rawBody: '{"title": ' }),
      400,
      "invalid_json",
    );
    assertError(
      await request(url, "POST", "/api/tasks", { token: alice.token }),
      400,
      "invalid_request",
      /JSON object is required/,
    );
  });

  it("rejects a body that is not JSON with 415", async () => {
    assertError(
      await request(url, "POST", "/api/tasks", {
        token: alice.token,
        rawBody: "title=x",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      }),
      415,
      "unsupported_media_type",
    );
  });

  it("rejects an oversized body with 413", async () => {
    const response = await request(url, "POST", "/api/tasks", {
      token: alice.token,
      body: { title: "big", description: "z".repeat(70 * 1024) },
    });
    assertError(response, 413, "payload_too_large", /64 KiB/);
  });

  it("answers 413 to a body still being uploaded, and keeps the connection for the next request", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (const path of ["/api/tasks", "/api/auth/sign-in/email"]) {
        for (let attempt = 1; attempt <= 3; attempt += 1) {
          const size = 3 * 1024 * 1024;
          const refused = await upload(
            agent,
            path,
            { "content-length": String(size), authorization: `Bearer ${alice.token}` },
            size,
          );
          assert.equal(refused.status, 413, `${path}, attempt ${attempt}: ${refused.body}`);
          assert.equal(JSON.parse(refused.body).error.code, "payload_too_large");
          assert.notEqual(refused.connection, "close", `${path}, attempt ${attempt}`);
          const next = await upload(agent, "/api/tasks", { authorization: `Bearer ${alice.token}` }, 0, "GET");
          assert.equal(next.status, 200, `${path}, attempt ${attempt}: the request after the 413`);
          assert.equal(next.clientPort, refused.clientPort, `${path}, attempt ${attempt}: on the same connection`);
        }
      }
    } finally {
      agent.destroy();
    }
  });

  it("closes the connection after a 413 when the refused body would be too long to read through", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // Headers only: the server answers at once, so no unread body races the close.
      const declared = String(DRAIN_LIMIT_BYTES + 1);
      const refused = await upload(
        agent,
        "/api/tasks",
        { "content-length": declared, authorization: `Bearer ${alice.token}` },
        0,
        "POST",
        false,
      );
      assert.equal(refused.status, 413);
      assert.equal(refused.connection, "close");
    } finally {
      agent.destroy();
    }
  });

  it("answers unknown routes with 404 in the same shape", async () => {
    assertError(await request(url, "GET", "/api/nope", { token: alice.token }), 404, "not_found");
  });
});

describe("database errors as a safety net", () => {
  it("maps a data exception (SQLSTATE class 22) or a check violation to 400 invalid_input, without the driver's text", async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      for (const statement of [
        "select 'not a number'::int",
        "select make_date(0, 1, 1)",
        "select convert_from('\\xff'::bytea, 'UTF8')",
      ]) {
        const error = await client.query(statement).then(
          () => assert.fail(`${statement} should fail`),
          (caught: unknown) => caught,
        );
        assert.ok(error instanceof pg.DatabaseError && error.code!.startsWith("22"), String(error));
        const { status, body } = toErrorResponse(error as any);
        assert.equal(status, 400);
        assert.equal(body.error.code, "invalid_input");
        assert.ok(!body.error.message.includes(error.message), "the driver's message stays in the log");
      }
      await client.query("create temporary table checked (n int check (n > 0))");
      const violation = await client.query("insert into checked values (0)").catch((caught: unknown) => caught);
      assert.equal((violation as pg.DatabaseError).code, "23514");
      assert.equal(toErrorResponse(violation as any).status, 400);
    } finally {
      await client.end();
    }
  });
});
