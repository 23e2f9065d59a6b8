import { randomBytes } from "node:crypto";
import { onCleanup } from "./cleanup.js";
import { freePort } from "../../scripts/embedded-postgres.js";
import { loadConfig } from "../../src/config.js";
import type { Logger } from "../../src/logger.js";
import { startServer, type RunningServer } from "../../src/start.js";

export const TEST_AUTH_SECRET = randomBytes(32).toString("base64url");

/**
 * The real server in this process on a free port. Logs are silent unless
 * TEST_LOG_LEVEL is set (e.g. TEST_LOG_LEVEL=debug npm test) or a test hands in
 * its own logger to read them.
 */
export async function startTestServer(
  databaseUrl: string,
  env: Record<string, string> = {},
  options: { logger?: Logger } = {},
): Promise<RunningServer> {
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    BETTER_AUTH_SECRET: TEST_AUTH_SECRET,
    PORT: String(await freePort()),
    HOST: "127.0.0.1",
    SHUTDOWN_DELAY_MS: "0",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    // Every test signs up its own users, all from 127.0.0.1; the limit's own test sets it low.
    SIGN_UP_RATE_LIMIT: "1000000",
    ...env,
  });
  const server = await startServer(config, options);
  onCleanup(() => server.shutdown("test finished"));
  return server;
}
