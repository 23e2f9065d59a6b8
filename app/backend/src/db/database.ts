import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { Database } from "./schema.js";
import { parseTimestamptz } from "./timestamps.js";

export interface DatabaseHandle {
  pool: pg.Pool;
  db: Kysely<Database>;
  close(): Promise<void>;
}

const { DATE, INT8, TIMESTAMPTZ } = pg.types.builtins;

// DATE stays a plain "YYYY-MM-DD" string (pg would turn it into a local-midnight
// Date and shift it across time zones); bigint counts and ids fit in a JS number here.
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (format !== "binary") {
      if (oid === DATE) return (value: string) => value;
      if (oid === INT8) return (value: string) => Number(value);
      if (oid === TIMESTAMPTZ) return parseTimestamptz;
    }
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

export interface DatabaseOptions {
  connectionString: string;
  max?: number;
  /** Fail fast when PostgreSQL is unreachable so /ready can answer instead of hanging. */
  connectionTimeoutMillis?: number;
  /**
   * PostgreSQL's statement_timeout for every connection (unset: no limit). The server sets it so
   * no query (a chat tool stuck on a lock, say) can hold a request open indefinitely; migrations
   * leave it unset, since they wait on the migration lock and may rewrite large tables.
   */
  statementTimeoutMs?: number;
  onError?: (error: Error) => void;
}

export function createDatabase(options: DatabaseOptions): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5000,
    idleTimeoutMillis: 30000,
    // Sent in the startup packet: no extra round trip per connection.
    statement_timeout: options.statementTimeoutMs,
    // Shows up in pg_stat_activity, so operators can tell this service's connections apart.
    application_name: "todo-backend",
    types,
  });
  // An idle client losing its connection (database restart) emits 'error' on the
  // pool; without a listener that would crash the process instead of recovering.
  pool.on("error", (error) => options.onError?.(error));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let closed: Promise<void> | undefined;
  return {
    pool,
    db,
    close() {
      // Kysely's destroy() ends the pool it was given.
      closed ??= db.destroy();
      return closed;
    },
  };
}
