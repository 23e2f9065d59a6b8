import { ConfigError, loadMigrateConfig, redactUrlPassword } from "./config.js";
import { createDatabase } from "./db/database.js";
import { migrateToLatest } from "./db/migrator.js";
import { createLogger } from "./logger.js";

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
