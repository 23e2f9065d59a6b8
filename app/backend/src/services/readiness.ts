import { sql, type Kysely } from "kysely";
import { pendingMigrations } from "../db/migrator.js";
import { errorBody } from "../errors.js";
import type { Logger } from "../logger.js";

/** Our own timeout, as opposed to an error from the driver. */
class NoAnswer extends Error {}

export interface ReadinessReport {
  ready: boolean;
  body: Record<string, unknown>;
}

/**
 * What /ready reports: whether this replica should receive traffic. It turns
 * false the moment shutdown begins, and whenever PostgreSQL does not answer or
 * the schema is behind the migrations this build expects.
 */
export class Readiness {
  private shuttingDown = false;

  constructor(
    private readonly db: Kysely<any>,
    private readonly logger?: Logger,
    private readonly timeoutMs = 2000,
  ) {}

  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  async check(): Promise<ReadinessReport> {
    if (this.shuttingDown) {
      return this.failed({ shutdown: "in progress" }, "shutting_down", "This replica is shutting down");
    }
    // The body names the check and what kind of failure it was; the driver's message (host,
    // port, user, SQL) goes to the log only: /ready is reachable without credentials.
    try {
      await this.withinTimeout(sql`select 1`.execute(this.db));
    } catch (error) {
      const reason = this.failureReason(error, "database");
      return this.failed(
        { database: `failed: ${reason}`, migrations: "not checked" },
        "database_unavailable",
        `database check failed: ${reason}`,
      );
    }
    let pending: string[];
    try {
      pending = await this.withinTimeout(pendingMigrations(this.db));
    } catch (error) {
      const reason = this.failureReason(error, "migrations");
      return this.failed(
        { database: "ok", migrations: `failed: ${reason}` },
        "migrations_unknown",
        `migrations check failed: ${reason}`,
      );
    }
    if (pending.length > 0) {
      return this.failed(
        { database: "ok", migrations: `pending: ${pending.join(", ")}` },
        "migrations_pending",
        `migrations check failed: ${pending.length} pending (${pending.join(", ")}); run \`npm run migrate\``,
      );
    }
    return { ready: true, body: { status: "ready", checks: { database: "ok", migrations: "ok" } } };
  }

  private failed(checks: Record<string, string>, code: string, message: string): ReadinessReport {
    return { ready: false, body: { status: "unavailable", checks, ...errorBody(code, message) } };
  }

  private failureReason(error: unknown, check: string): string {
    this.logger?.warn({ err: error, check }, "readiness check failed");
    if (error instanceof NoAnswer) return error.message;
    return check === "database"
      ? "PostgreSQL refused the connection or the query (details in the server log)"
      : "could not read the applied migrations (details in the server log)";
  }

  private withinTimeout<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new NoAnswer(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }
}
