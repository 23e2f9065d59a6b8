import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { getMigrations } from "better-auth/db/migration";
import { sql } from "kysely";
import { authOptions } from "../src/auth/options.js";
import { createDatabase } from "../src/db/database.js";
import { migrations } from "../src/db/migrations/index.js";
import { request } from "./support/client.js";
import { onCleanup } from "./support/cleanup.js";
import { startTestPostgres, type TestPostgres } from "./support/postgres.js";
import { spawnEntry } from "./support/processes.js";
import { startTestServer } from "./support/server.js";

let postgres: TestPostgres;

before(async () => {
  postgres = await startTestPostgres();
});

const MIGRATION_NAMES = Object.keys(migrations);

function runMigrate(databaseUrl: string, env: Record<string, string> = {}) {
  return spawnEntry("src/migrate.ts", { DATABASE_URL: databaseUrl, LOG_LEVEL: "info", ...env }).exited;
}

async function appliedMigrations(databaseUrl: string): Promise<string[]> {
  const database = createDatabase({ connectionString: databaseUrl, max: 1 });
  try {
    const rows = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(database.db);
    return rows.rows.map((r) => r.name);
  } finally {
    await database.close();
  }
}

describe("npm run migrate (node dist/migrate.js)", () => {
  it("applies every migration on an empty database, then finds nothing to do the second time", async () => {
    const databaseUrl = await postgres.freshDatabase({ migrated: false });
    const first = await runMigrate(databaseUrl);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    for (const name of MIGRATION_NAMES)
      assert.match(first.stdout, new RegExp(`"migration":"${name}","status":"Success"`));
    const second = await runMigrate(databaseUrl);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.match(second.stdout, /database already up to date/);
    assert.deepEqual(await appliedMigrations(databaseUrl), MIGRATION_NAMES);
  });

  it("is safe when two replicas run it at the same moment: each migration applies exactly once", async () => {
    const databaseUrl = await postgres.freshDatabase({ migrated: false });
    const results = await Promise.all([runMigrate(databaseUrl), runMigrate(databaseUrl), runMigrate(databaseUrl)]);
    for (const result of results) assert.equal(result.code, 0, result.stdout + result.stderr);
    const applied = results.map((r) => (r.stdout.match(/"status":"Success"/g) ?? []).length);
    assert.equal(
      applied.reduce((a, b) => a + b, 0),
      MIGRATION_NAMES.length,
      `the runs applied ${applied.join(" + ")} migrations`,
    );
    assert.deepEqual(await appliedMigrations(databaseUrl), MIGRATION_NAMES);
  });

  it("creates exactly the schema Better Auth expects for our configuration", async () => {
    const databaseUrl = await postgres.freshDatabase();
    const database = createDatabase({ connectionString: databaseUrl, max: 1 });
    onCleanup(() => database.close());
    const plan = await getMigrations(authOptions({ db: database.db, secret: "x".repeat(32), baseURL: undefined }));
    assert.deepEqual(plan.toBeCreated, [], "no table missing");
    assert.deepEqual(plan.toBeAdded, [], "no column missing");
    assert.deepEqual(plan.toBeAddedIndexes, [], "no index missing");
    assert.deepEqual(plan.schemaProblems, []);
  });

  it("refuses to start without DATABASE_URL, naming the variable", async () => {
    const result = await spawnEntry("src/migrate.ts", {}).exited;
    assert.equal(result.code, 1);
    assert.match(result.stderr, /DATABASE_URL is required/);
  });

  it("exits non-zero when the database cannot be reached within MIGRATE_WAIT_SECONDS, logging each retry", async () => {
    const result = await runMigrate("postgres://nobody:wrong@127.0.0.1:1/none", { MIGRATE_WAIT_SECONDS: "2" });
    assert.equal(result.code, 1);
    assert.match(result.stdout, /"attempt":1,.*does not accept connections yet; retrying/);
    assert.match(result.stdout, /giving up/);
    assert.match(result.stdout, /migrations failed/);
  });

  it("waits for a database that starts after it, then migrates", async () => {
    const databaseUrl = await postgres.freshDatabase({ migrated: false });
    await postgres.stop();
    let migrate;
    try {
      migrate = spawnEntry("src/migrate.ts", {
        DATABASE_URL: databaseUrl,
        LOG_LEVEL: "info",
        MIGRATE_WAIT_SECONDS: "60",
      });
      await migrate.waitFor(/retrying/);
    } finally {
      await postgres.start();
    }
    const result = await migrate.exited;
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.deepEqual(await appliedMigrations(databaseUrl), MIGRATION_NAMES);
  });

  it("does not wait when the password is wrong: waiting cannot fix that", async () => {
    const databaseUrl = await postgres.freshDatabase({ migrated: false });
    const wrong = new URL(databaseUrl);
    wrong.password = "not-the-password";
    const result = await runMigrate(wrong.toString(), { MIGRATE_WAIT_SECONDS: "600" });
    assert.equal(result.code, 1);
    assert.doesNotMatch(result.stdout, /retrying/);
    assert.match(result.stdout, /giving up/);
  });
});

describe("/ready and migrations", () => {
  it("is 503 naming the pending migrations until they are applied, then 200", async () => {
    const databaseUrl = await postgres.freshDatabase({ migrated: false });
    const server = await startTestServer(databaseUrl);
    const before = await request(server.url, "GET", "/ready");
    assert.equal(before.status, 503);
    assert.equal(before.body.checks.database, "ok");
    assert.equal(before.body.checks.migrations, `pending: ${MIGRATION_NAMES.join(", ")}`);
    assert.equal(before.body.error.code, "migrations_pending");
    assert.equal((await runMigrate(databaseUrl)).code, 0);
    const after = await request(server.url, "GET", "/ready");
    assert.equal(after.status, 200);
    assert.deepEqual(after.body, { status: "ready", checks: { database: "ok", migrations: "ok" } });
  });

  it("the server itself never migrates: tables appear only after migrate runs", async () => {
    const databaseUrl = await postgres.freshDatabase({ migrated: false });
    const server = await startTestServer(databaseUrl);
    // A lazy migration (on the first request of some kind) would show up here.
    await request(server.url, "GET", "/ready");
    await request(server.url, "POST", "/api/auth/sign-up/email", {
      body: { email: "lazy@example.com", password: "correct horse battery", name: "Lazy" },
    });
    await request(server.url, "GET", "/api/tasks", { token: "not-a-token" });
    await request(server.url, "POST", "/api/chat", { body: { message: "hi" } });
    const database = createDatabase({ connectionString: databaseUrl, max: 1 });
    onCleanup(() => database.close());
    const tables = await sql<{
      n: number;
    }>`select count(*)::int as n from pg_tables where schemaname = 'public'`.execute(database.db);
    assert.equal(tables.rows[0]!.n, 0);
  });
});
