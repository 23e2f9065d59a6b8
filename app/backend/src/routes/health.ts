import type { FastifyInstance } from "fastify";
import type { Readiness } from "../services/readiness.js";

export async function healthRoutes(app: FastifyInstance, { readiness }: { readiness: Readiness }): Promise<void> {
  // Liveness touches nothing: a database outage must not get healthy pods restarted.
  app.get("/health", { logLevel: "warn" }, async () => ({ status: "ok" }));

  app.get("/ready", { logLevel: "warn" }, async (_request, reply) => {
    const report = await readiness.check();
    return reply.status(report.ready ? 200 : 503).send(report.body);
  });
}
