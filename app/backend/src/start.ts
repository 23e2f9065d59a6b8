import type { FastifyInstance } from "fastify";
import { createAgent } from "./agent/index.js";
import { buildApp } from "./app.js";
import { createAuth } from "./auth/auth.js";
import type { Config } from "./config.js";
import { createDatabase } from "./db/database.js";
import { createLogger, type Logger } from "./logger.js";
import { Readiness } from "./services/readiness.js";

export interface RunningServer {
  app: FastifyInstance;
  /** Where this process listens, e.g. http://127.0.0.1:8000 */
  url: string;
  logger: Logger;
  /**
   * Graceful stop: /ready answers 503 at once, the listener stays open for the
   * configured delay (so load balancers notice), then in-flight requests finish
   * and the database pool closes. Calling it again returns the same promise.
   */
  shutdown(reason: string): Promise<void>;
}

/** Wires the configuration into a listening server. Migrations are not run here (see migrate.ts). */
export async function startServer(config: Config, options: { logger?: Logger } = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const database = createDatabase({
    connectionString: config.databaseUrl,
    max: config.databasePoolMax,
    statementTimeoutMs: config.databaseStatementTimeoutMs,
    onError: (error) => logger.warn({ err: error }, "an idle database connection failed; it will be replaced"),
  });
  const auth = createAuth({
    db: database.db,
    secret: config.betterAuthSecret,
    baseURL: config.betterAuthUrl,
    logger,
    logLevel: config.logLevel,
  });
  const readiness = new Readiness(database.db, logger);
  const app = await buildApp({ config, logger, database, auth, agent: await createAgent(config.llm), readiness });
  app.addHook("onClose", async () => database.close());

  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const url = `http://127.0.0.1:${port}`;
  logger.info(
    {
      url,
      llmProvider: config.llm.provider,
      authOrigin: config.betterAuthUrl ?? "derived per request from X-Forwarded-Host/Proto or Host",
    },
    "backend listening",
  );

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string) =>
    (stopping ??= (async () => {
      readiness.markShuttingDown();
      logger.info({ reason, delayMs: config.shutdown.delayMs }, "shutting down: /ready now answers 503");
      if (config.shutdown.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdown.delayMs));
      await app.close();
      logger.info("shutdown complete: requests drained, database pool closed");
    })());

  return { app, url, logger, shutdown };
}
