import { ConfigError, loadMigrateConfig, redactUrlPassword } from "./config.js";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "kysely";
import pg from "pg";
import { createDatabase, type DatabaseHandle } from "./db/database.js";
import { migrateToLatest } from "./db/migrator.js";
import { createLogger, type Logger } from "./logger.js";

/** Errors that waiting cannot fix: wrong password or user (class 28), no such database. */
function isPermanent(error: unknown): boolean {
  return error instanceof pg.DatabaseError && (error.code?.startsWith("28") === true || error.code === "3D000");
}

/**
 * Waits, with backoff, until PostgreSQL accepts connections: on a fresh deploy the migration
 * often starts before the database does. True when it answered, false once `waitSeconds` passed.
 */
async function waitForDatabase(database: DatabaseHandle, waitSeconds: number, logger: Logger): Promise<boolean> {
  const deadline = Date.now() + waitSeconds * 1000;
  for (let attempt = 1, delayMs = 500; ; attempt++, delayMs = Math.min(delayMs * 2, 5000)) {
    try {
      await sql`select 1`.execute(database.db);
      return true;
    } catch (error) {
      const remainingMs = deadline - Date.now();
      if (isPermanent(error) || remainingMs <= 0) {
        logger.error({ err: error, attempt, waitSeconds }, "the database does not accept connections; giving up");
        return false;
      }
      const waitMs = Math.min(delayMs, remainingMs);
      logger.warn(
        { attempt, retryInMs: waitMs, reason: error instanceof Error ? error.message : String(error) },
        "the database does not accept connections yet; retrying",
      );
      await sleep(waitMs);
    }
  }
}

/**
 * `node dist/migrate.js` / `npm run migrate`: applies pending migrations and
 * exits 0, or exits 1 saying which migration failed. Safe to run from several
 * replicas at once (see db/migrator.ts).
 */
async function main(): Promise<number> {
  let config;
  try {
    config = loadMigrateConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const database = createDatabase({ connectionString: config.databaseUrl, max: 2 });
  try {
    logger.info({ database: redactUrlPassword(config.databaseUrl) }, "applying migrations");
    if (!(await waitForDatabase(database, config.waitSeconds, logger))) {
      logger.error("migrations failed: no database connection");
      return 1;
    }
    const { error, results = [] } = await migrateToLatest(database.db);
    for (const result of results) {
      const log = result.status === "Error" ? logger.error.bind(logger) : logger.info.bind(logger);
      log({ migration: result.migrationName, status: result.status }, "migration");
    }
    if (error) {
      logger.error({ err: error }, "migrations failed; the database was left at the last successful migration");
      return 1;
    }
    const applied = results.filter((r) => r.status === "Success").length;
    logger.info({ applied }, applied === 0 ? "database already up to date" : "database migrated");
    return 0;
  } finally {
    await database.close();
  }
}

process.exitCode = await main();
