/**
 * `npm run dev`: a real PostgreSQL (embedded, data kept in DEV_DATA_DIR), the
 * migrations, and the API server on PORT with the builtin agent. Prints
 * "backend ready on http://127.0.0.1:<PORT>" once it serves; SIGINT/SIGTERM stop
 * the server first, then PostgreSQL.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, loadConfig } from "../src/config.js";
import { createDatabase } from "../src/db/database.js";
import { migrateToLatest } from "../src/db/migrator.js";
import { startServer } from "../src/start.js";
import { startPostgres } from "./embedded-postgres.js";

const backendRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dataDir = path.resolve(process.env.DEV_DATA_DIR || path.join(backendRoot, ".dev-data"));
const pgPort = Number(process.env.DEV_PG_PORT || 54329);

interface DevSecrets {
  postgresPassword: string;
  betterAuthSecret: string;
}

/** Generated once per data directory and kept beside it, so sessions survive restarts. No fixed passwords. */
async function devSecrets(): Promise<DevSecrets> {
  const file = path.join(dataDir, "dev-secrets.json");
  if (existsSync(file)) return JSON.parse(await fs.readFile(file, "utf8")) as DevSecrets;
  const secrets = {
    postgresPassword: randomBytes(18).toString("base64url"),
    betterAuthSecret: randomBytes(32).toString("base64url"),
  };
  await fs.writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

async function main(): Promise<void> {
  if (!Number.isInteger(pgPort) || pgPort < 1 || pgPort > 65535) {
    throw new Error(`DEV_PG_PORT must be a port number from 1 to 65535 (got "${process.env.DEV_PG_PORT}")`);
  }
  await fs.mkdir(dataDir, { recursive: true });
  const secrets = await devSecrets();
  const postgres = await startPostgres({
    dataDir: path.join(dataDir, "postgres"),
    port: pgPort,
    password: secrets.postgresPassword,
    persistent: true,
  });
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    try {
      await server?.shutdown(signal);
    } finally {
      await postgres.stop();
      process.stdout.write("backend stopped\n");
      process.exit(0);
    }
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));

  try {
    await postgres.createDatabase("todo_db");
    const databaseUrl = postgres.url("todo_db");
    const migrations = createDatabase({ connectionString: databaseUrl, max: 1 });
    const { error } = await migrateToLatest(migrations.db);
    await migrations.close();
    if (error) throw error;

    const config = loadConfig({
      ...process.env,
      DATABASE_URL: databaseUrl,
      BETTER_AUTH_SECRET: process.env.BETTER_AUTH_SECRET || secrets.betterAuthSecret,
      LLM_PROVIDER: process.env.LLM_PROVIDER || "builtin",
      HOST: process.env.HOST || "127.0.0.1",
      // Nothing routes traffic to a dev server, so there is nothing to wait for on shutdown.
      SHUTDOWN_DELAY_MS: process.env.SHUTDOWN_DELAY_MS || "0",
      // Every local browser and test session signs up from the same address.
      SIGN_UP_RATE_LIMIT: process.env.SIGN_UP_RATE_LIMIT || "100",
    });
    server = await startServer(config);
    process.stdout.write(`backend ready on http://127.0.0.1:${config.port}\n`);
  } catch (error) {
    await postgres.stop();
    throw error;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
