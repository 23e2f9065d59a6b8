import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { onCleanup } from "./cleanup.js";
import { freePort, startPostgres, type PostgresServer } from "../../scripts/embedded-postgres.js";
import { createDatabase } from "../../src/db/database.js";
import { migrateToLatest } from "../../src/db/migrator.js";

export interface TestPostgres extends PostgresServer {
  /** A new empty database on this server, with its URL. */
  freshDatabase(options?: { migrated?: boolean }): Promise<string>;
}

let counter = 0;

/**
 * A real PostgreSQL for one test file, in a temporary directory removed after
 * the file's tests. Started with the same code `npm run dev` uses.
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "todo-backend-test-"));
  const server = await startPostgres({
    dataDir: path.join(root, "data"),
    port: await freePort(),
    password: randomBytes(12).toString("base64url"),
    // Kept across stop()/start() (tests restart it); the whole temp dir goes at cleanup.
    persistent: true,
  });
  onCleanup(async () => {
    await server.stop().catch(() => {});
    await fs.rm(root, { recursive: true, force: true });
  });
  return {
    ...server,
    async freshDatabase({ migrated = true } = {}) {
      const name = `test_${process.pid}_${++counter}`;
      await server.createDatabase(name);
      const url = server.url(name);
      if (migrated) {
        const database = createDatabase({ connectionString: url, max: 1 });
        try {
          const { error } = await migrateToLatest(database.db);
          if (error) throw error;
        } finally {
          await database.close();
        }
      }
      return url;
    },
  };
}
